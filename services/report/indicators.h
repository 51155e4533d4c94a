/*
 * indicators.h - what the report service counts (docs/REPORTS.md §indicators).
 *
 * An indicator is a named counter kept per (agency, day). Forms never count
 * anything themselves: a form column is an expression over indicators
 * (forms.h), so a new circular's forms are a data file, and only a genuinely
 * new fact needs code here.
 *
 * Ids are small integers built from a family and its dimensions (kind of
 * petition, unit, measure) so the model can compute them without string
 * lookups; names ("xld.vv.kn.within") are what form files use. Some families
 * also carry a field dimension (lĩnh vực), kept as a separate 16-bit "dim".
 *
 * Pure: no store, no globals beyond the constant catalog.
 */
#ifndef REPORT_INDICATORS_H
#define REPORT_INDICATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Petition kinds as the forms split them. MIXED content is counted with
 * kiến nghị/phản ánh: no form has a column for it (docs/REPORTS.md). */
enum report_kind { RK_KN = 0, RK_TC, RK_KNPA, RK_COUNT };

/* Xử lý đơn (XLD): counted under the receiving agency; receipt measures on
 * the receipt day, the rest on the day the petition was handled (its first
 * outcome). Unit "vv" counts cases: petitions that are not duplicates. */
enum report_unit { RU_DON = 0, RU_VV, RU_COUNT };	/* petitions, cases */
enum report_xld_measure {
	RXM_RECV = 0,	/* received (receipt day) */
	RXM_RECV_MANY,	/* ... with two or more signers (đơn nhiều người đứng tên) */
	RXM_HANDLED,	/* handled: first outcome day; dim = receipt day (carried/new) */
	RXM_HANDLED_MANY,
	RXM_INELIGIBLE,	/* handled and not eligible */
	RXM_DUPLICATE,	/* linked as a duplicate of another case (receipt day) */
	RXM_DELEGATION,	/* brought by a delegation, đoàn đông người (receipt day) */
	RXM_ELIG,	/* eligible (đủ điều kiện xử lý); dim = field */
	RXM_WITHIN,	/* within competence */
	RXM_WITHIN_NEXT,/* within competence: second-round complaint / re-denunciation */
	RXM_GUIDE,	/* outside competence: guided (hướng dẫn) */
	RXM_FORWARD,	/* outside competence: forwarded (chuyển đơn) */
	RXM_RETURN,	/* returned (trả lại đơn) */
	RXM_FILE,	/* filed away (lưu đơn) although eligible */
	RXM_PRIOR0,	/* not resolved before (chưa giải quyết) */
	RXM_PRIOR1,	/* resolved once before (đã giải quyết lần đầu) */
	RXM_PRIOR2,	/* resolved before and back again (lần 2, nhiều lần) */
	RXM_COURT,	/* a court judgment exists */
	RXM_REPEAT,	/* a repeat petition (routing DuplicateLinked repeat) */
	RXM_REPEAT_OVERDUE, /* repeat while no decision exists yet */
	RXM_URGE,	/* đôn đốc actions (a fact, counted on the action day) */
	RXM_COUNT,
};

/* Giải quyết (GQ) and thi hành (THI): counted under the handling agency. */
enum report_gq_measure {
	RGM_ACCEPT = 0,	/* thụ lý (acceptance day) */
	RGM_ACCEPT_NEXT,/* ... of which re-denunciations (tố cáo tiếp) */
	RGM_RESOLVED,	/* decided, withdrawn or terminated (that day) */
	RGM_BY_DECISION,
	RGM_WITHDRAWN,
	RGM_TERMINATED,
	RGM_FIRST,	/* resolved, first round / first denunciation */
	RGM_RIGHT, RGM_WRONG, RGM_PARTLY,	/* first round (KN) or first time (TC) */
	RGM_R2_UPHELD, RGM_R2_CHANGED,		/* KN second round: upheld / annulled or amended */
	RGM_NEXT,	/* re-denunciation (tố cáo tiếp) resolved */
	RGM_NEXT_RIGHT, RGM_NEXT_WRONG, RGM_NEXT_PARTLY,
	RGM_MONEY_RECOVER,	/* VND, kiến nghị thu hồi cho Nhà nước */
	RGM_LAND_RECOVER,	/* 0.01 m² units */
	RGM_MONEY_RETURN,	/* VND, trả lại cho tổ chức, cá nhân */
	RGM_LAND_RETURN,
	RGM_RIGHTS_RESTORED,	/* people whose rights were restored */
	RGM_SANCTION,		/* people recommended for sanction */
	RGM_REFERRED_CASES,	/* cases sent to investigation */
	RGM_REFERRED_PEOPLE,
	RGM_DL_MET, RGM_DL_MISSED,	/* resolution deadline kept / missed (facts) */
	RGM_THI_DECIDED,	/* decisions or conclusions to carry out (decision day) */
	RGM_THI_DONE,		/* carried out (completion day) */
	RGM_THI_MONEY_RECOVERED, RGM_THI_LAND_RECOVERED,
	RGM_THI_MONEY_RETURNED, RGM_THI_LAND_RETURNED,
	RGM_THI_SANCTIONED,
	RGM_COUNT,
};

/* Tiếp công dân (TCD): facts from the reception book. */
enum report_tcd_cat { RTC_REGULAR = 0, RTC_HEAD, RTC_DELEGATED, RTC_COUNT };
enum report_tcd_measure {
	RTM_VISITS = 0, RTM_PEOPLE, RTM_FIRST, RTM_REPEAT,
	RTM_DEL_GROUPS, RTM_DEL_PEOPLE, RTM_DEL_FIRST, RTM_DEL_REPEAT,
	RTM_SESSIONS,	/* distinct reception days (kỳ tiếp) */
	RTM_REFUSED,
	RTM_COUNT,
};

/* Singles, then the families laid out one after another. */
enum report_ind_single {
	RI_REPLY = 0,		/* replies received to forwarded petitions: no event yet */
	RI_DL_HANDLE_MET,	/* every other deadline kept / missed (facts) */
	RI_DL_HANDLE_MISSED,
	RI_ESCALATED,		/* overdue escalations raised (facts) */
	RI_SINGLE_COUNT,
};

#define REPORT_IND_XLD_BASE RI_SINGLE_COUNT
#define REPORT_IND_GQ_BASE (REPORT_IND_XLD_BASE + RU_COUNT * RK_COUNT * RXM_COUNT)
#define REPORT_IND_TCD_BASE (REPORT_IND_GQ_BASE + RK_COUNT * RGM_COUNT)
#define REPORT_IND_COUNT (REPORT_IND_TCD_BASE + RTC_COUNT * RTM_COUNT)

static inline uint16_t report_ind_xld(enum report_unit u, enum report_kind k,
				      enum report_xld_measure m)
{
	return (uint16_t)(REPORT_IND_XLD_BASE + ((unsigned)u * RK_COUNT + (unsigned)k) * RXM_COUNT +
			  (unsigned)m);
}

static inline uint16_t report_ind_gq(enum report_kind k, enum report_gq_measure m)
{
	return (uint16_t)(REPORT_IND_GQ_BASE + (unsigned)k * RGM_COUNT + (unsigned)m);
}

static inline uint16_t report_ind_tcd(enum report_tcd_cat c, enum report_tcd_measure m)
{
	return (uint16_t)(REPORT_IND_TCD_BASE + (unsigned)c * RTM_COUNT + (unsigned)m);
}

/* How a value is kept: counts, VND, or hundredths of a square metre. */
enum report_ind_unit { RIU_COUNT = 0, RIU_VND, RIU_CM2 };

#define REPORT_IND_NAME_MAX 48
/** Write the name of indicator id ("xld.vv.kn.within") into buf (at least
 * REPORT_IND_NAME_MAX bytes). Returns buf, or NULL past REPORT_IND_COUNT. */
const char *report_ind_name(unsigned id, char *buf);
/** Id by name, or -1. */
int report_ind_lookup(const char *name);
enum report_ind_unit report_ind_unit(unsigned id);
/** Whether the indicator's dim is the receipt day (RXM_HANDLED*): queries
 * split it into carried over (received before the period) and new. */
bool report_ind_dim_is_day(unsigned id);
/** One line saying what it counts (docs and `donthu report indicators`). */
const char *report_ind_help(unsigned id);

#endif
