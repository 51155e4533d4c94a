/*
 * register.h - the agency register and the administrative units, with dates.
 *
 * Two-level local government (since 1 July 2025) and merged provinces are the
 * normal case: every agency and unit has effective-from and effective-to
 * dates and may name a successor. Data files (CSV, UTF-8, one header row,
 * multi-valued cells separated by ';'; format in docs/DATA.md):
 *
 *   agencies.csv: code,name,level,parent_code,fields,units,effective_from,
 *                 effective_to,successor_code,source_note
 *     level: central|province|commune|department|inspectorate|office|
 *            reception_board|public_service_unit|police|district (pre-2025)
 *     fields: field codes it manages (see fields.csv); units: unit codes it
 *     covers (communes: its own unit; province bodies: empty = whole province)
 *   units.csv:    code,name,type,province_code,effective_from,effective_to,
 *                 successor_code,formed_from,source_note
 *     formed_from: codes of the units merged into it (each must exist and
 *     end before this unit starts)
 *   fields.csv:   code,name_vi,description
 *
 * Dates: effective_from empty = start unknown (before our records); effective_to
 * empty = open-ended. A row with a successor must end, and its successor must
 * be active on the day after it ends (no gap in the chain).
 *
 * Loading validates everything (unique codes, parents and successors exist,
 * no successor or parent cycles, dates real and ordered, known levels and
 * fields) and fails with a message naming file, line and column. Objects are
 * immutable after load; reload builds a new register and the caller swaps
 * pointers.
 * Threads: a loaded register is read-only, so lookups may run on any thread.
 */
#ifndef CM_REGISTER_H
#define CM_REGISTER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/clock.h"

struct cm_register;

enum cm_agency_level {
	CM_LEVEL_CENTRAL = 1,
	CM_LEVEL_PROVINCE,	    /* UBND tỉnh/thành phố */
	CM_LEVEL_COMMUNE,	    /* UBND xã/phường/đặc khu */
	CM_LEVEL_DEPARTMENT,	    /* sở */
	CM_LEVEL_INSPECTORATE,	    /* thanh tra tỉnh */
	CM_LEVEL_OFFICE,	    /* văn phòng UBND */
	CM_LEVEL_RECEPTION_BOARD,   /* ban tiếp công dân */
	CM_LEVEL_PUBLIC_SERVICE_UNIT,
	CM_LEVEL_POLICE,
	CM_LEVEL_DISTRICT,	    /* abolished 1 July 2025 */
};

struct cm_agency {
	const char *code;
	const char *name;
	enum cm_agency_level level;
	const char *parent_code;	/* NULL at the top */
	const char *const *fields;	/* field codes, nfields of them */
	size_t nfields;
	const char *const *units;	/* unit codes covered */
	size_t nunits;
	cm_day_t effective_from;	/* INT32_MIN when unknown */
	cm_day_t effective_to;		/* INT32_MAX when open-ended */
	const char *successor_code;	/* NULL if none */
};

struct cm_unit {
	const char *code;
	const char *name;
	const char *type;		/* phuong, xa, dac_khu, quan, huyen, ... */
	const char *province_code;
	cm_day_t effective_from, effective_to;	/* as for agencies */
	const char *successor_code;
	const char *const *formed_from;	/* unit codes, nformed_from of them */
	size_t nformed_from;
};

/** Load dir/agencies.csv, dir/units.csv and dir/fields.csv. Caller owns *out;
 * free with cm_register_free(). err (may be NULL) gets a message on any error.
 * Errors: -ENOENT/-EACCES or another -errno (reading a file), CM_ECONFIG
 * (content; err gets "agencies.csv:12: column effective_from: ..."). */
int cm_register_load(const char *dir, struct cm_register **out, char *err, size_t errlen);
void cm_register_free(struct cm_register **r);

/** Lookups return borrowed pointers valid until cm_register_free, or NULL. */
const struct cm_agency *cm_register_agency(const struct cm_register *r, const char *code);
const struct cm_unit *cm_register_unit(const struct cm_register *r, const char *code);
/** Whether a field code exists. */
bool cm_register_field_known(const struct cm_register *r, const char *code);

/** Whether the agency/unit exists on day. */
bool cm_agency_active(const struct cm_agency *a, cm_day_t day);
bool cm_unit_active(const struct cm_unit *u, cm_day_t day);

/** Follow successor links from code until an agency active on day is found
 * (itself if active). NULL if the chain ends without one. */
const struct cm_agency *cm_register_resolve(const struct cm_register *r, const char *code,
					    cm_day_t day);

/** The parent agency, or NULL. */
const struct cm_agency *cm_register_parent(const struct cm_register *r, const struct cm_agency *a);

/** Same for units: follow successor links from the unit code until a unit
 * active on day is found (itself if active). NULL if none. */
const struct cm_unit *cm_register_resolve_unit(const struct cm_register *r, const char *code,
					       cm_day_t day);

/** The commune-level agency covering unit on day (its UBND), or NULL. A unit
 * not active on day is first resolved as cm_register_resolve_unit() does, so
 * a former commune written in an old address finds today's UBND. */
const struct cm_agency *cm_register_commune_of_unit(const struct cm_register *r,
						   const char *unit_code, cm_day_t day);

/** The province-level department (level department) active on day that
 * manages field, or NULL; the first in agencies.csv order if several do. */
const struct cm_agency *cm_register_department_for_field(const struct cm_register *r,
							 const char *field, cm_day_t day);

/** Whether a is anc or below it in the parent tree. */
bool cm_register_is_under(const struct cm_register *r, const struct cm_agency *a,
			  const struct cm_agency *anc);

/** Iterate all agencies (i from 0 while it returns non-NULL). */
const struct cm_agency *cm_register_agency_at(const struct cm_register *r, size_t i);
size_t cm_register_agency_count(const struct cm_register *r);

/** A content hash of the loaded files, for events and reproducibility. */
const char *cm_register_version(const struct cm_register *r);

#endif
