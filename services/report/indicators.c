#include "indicators.h"

#include <stdio.h>
#include <string.h>

struct single {
	const char *name, *help;
	enum report_ind_unit unit;
};

static const struct single singles[RI_SINGLE_COUNT] = {
	[RI_REPLY] = {"don.reply", "replies received to forwarded petitions (no event carries them yet)",
		      RIU_COUNT},
	[RI_DL_HANDLE_MET] = {"dl.other.met", "deadlines other than resolution kept (clock stop day)",
			      RIU_COUNT},
	[RI_DL_HANDLE_MISSED] = {"dl.other.missed", "deadlines other than resolution missed",
				 RIU_COUNT},
	[RI_ESCALATED] = {"dl.overdue", "overdue escalations raised (raise day)", RIU_COUNT},
};

static const char *const kinds[RK_COUNT] = {"kn", "tc", "knpa"};
static const char *const units[RU_COUNT] = {"don", "vv"};
static const char *const xld_m[RXM_COUNT] = {
	"recv", "recv_many", "handled", "handled_many", "ineligible", "duplicate", "delegation",
	"elig", "within", "within_next", "guide", "forward", "return", "file",
	"prior0", "prior1", "prior2", "court", "repeat", "repeat_overdue", "urge",
};
static const char *const xld_help[RXM_COUNT] = {
	"received (receipt day)",
	"received with two or more signers",
	"handled: first outcome of xử lý đơn (that day; split carried over / new)",
	"handled, two or more signers",
	"handled and not eligible for handling",
	"linked as a duplicate of an existing case (receipt day)",
	"brought by a delegation of five or more people (receipt day)",
	"eligible for handling (handling day; field dimension)",
	"within the agency's competence",
	"within competence: second-round complaint or re-denunciation",
	"outside competence: guided to the competent body",
	"outside competence: forwarded",
	"returned to the sender",
	"filed away",
	"not resolved before",
	"resolved once before",
	"resolved before and sent again",
	"a court judgment exists",
	"a repeat petition",
	"a repeat petition while no decision exists yet",
	"urged (đôn đốc), counted on the action day",
};
static const char *const gq_m[RGM_COUNT] = {
	"accept", "accept_next", "resolved", "by_decision", "withdrawn", "terminated", "first",
	"right", "wrong", "partly", "r2_upheld", "r2_changed",
	"next", "next_right", "next_wrong", "next_partly",
	"money_recover", "land_recover", "money_return", "land_return",
	"rights_restored", "sanction", "referred_cases", "referred_people",
	"dl_met", "dl_missed",
	"thi_decided", "thi_done", "thi_money_recovered", "thi_land_recovered",
	"thi_money_returned", "thi_land_returned", "thi_sanctioned",
};
static const char *const gq_help[RGM_COUNT] = {
	"accepted for resolution (thụ lý), acceptance day",
	"accepted re-denunciations (tố cáo tiếp)",
	"resolved: decided, withdrawn or terminated",
	"resolved by a decision or conclusion",
	"withdrawn (rút đơn) after explanation",
	"terminated (đình chỉ)",
	"resolved, first round or first denunciation",
	"finding: right (đúng)",
	"finding: wrong (sai)",
	"finding: partly right (đúng một phần)",
	"second round: first-round decision upheld",
	"second round: first-round decision annulled or amended",
	"re-denunciation (tố cáo tiếp) resolved",
	"re-denunciation found right",
	"re-denunciation found wrong",
	"re-denunciation found partly right",
	"money recommended for recovery to the State (VND)",
	"land recommended for recovery (0.01 m²)",
	"money to return to organisations and people (VND)",
	"land to return (0.01 m²)",
	"people whose rights were restored",
	"people recommended for sanction",
	"cases sent to the investigating body",
	"people sent to the investigating body",
	"resolution deadlines kept (clock stop day)",
	"resolution deadlines missed",
	"decisions or conclusions to carry out (decision day)",
	"decisions or conclusions carried out (completion day)",
	"money recovered (VND, enforcement day)",
	"land recovered (0.01 m²)",
	"money returned (VND)",
	"land returned (0.01 m²)",
	"people sanctioned",
};
static const char *const tcd_c[RTC_COUNT] = {"reg", "head", "deleg"};
static const char *const tcd_m[RTM_COUNT] = {
	"visits", "people", "first", "repeat", "del_groups", "del_people",
	"del_first", "del_repeat", "sessions", "refused",
};

const char *report_ind_name(unsigned id, char *buf)
{
	unsigned r;

	if (id < RI_SINGLE_COUNT) {
		snprintf(buf, REPORT_IND_NAME_MAX, "%s", singles[id].name);
	} else if (id < REPORT_IND_GQ_BASE) {
		r = id - REPORT_IND_XLD_BASE;
		snprintf(buf, REPORT_IND_NAME_MAX, "xld.%s.%s.%s", units[r / (RK_COUNT * RXM_COUNT)],
			 kinds[(r / RXM_COUNT) % RK_COUNT], xld_m[r % RXM_COUNT]);
	} else if (id < REPORT_IND_TCD_BASE) {
		r = id - REPORT_IND_GQ_BASE;
		snprintf(buf, REPORT_IND_NAME_MAX, "gq.%s.%s", kinds[r / RGM_COUNT],
			 gq_m[r % RGM_COUNT]);
	} else if (id < REPORT_IND_COUNT) {
		r = id - REPORT_IND_TCD_BASE;
		snprintf(buf, REPORT_IND_NAME_MAX, "tcd.%s.%s", tcd_c[r / RTM_COUNT],
			 tcd_m[r % RTM_COUNT]);
	} else {
		return NULL;
	}
	return buf;
}

int report_ind_lookup(const char *name)
{
	char buf[REPORT_IND_NAME_MAX];

	/* About four hundred names: a linear scan at form-load time is fine. */
	for (unsigned i = 0; i < REPORT_IND_COUNT; i++)
		if (strcmp(report_ind_name(i, buf), name) == 0)
			return (int)i;
	return -1;
}

enum report_ind_unit report_ind_unit(unsigned id)
{
	unsigned m;

	if (id < RI_SINGLE_COUNT)
		return singles[id].unit;
	if (id >= REPORT_IND_GQ_BASE && id < REPORT_IND_TCD_BASE) {
		m = (id - REPORT_IND_GQ_BASE) % RGM_COUNT;
		switch (m) {
		case RGM_MONEY_RECOVER:
		case RGM_MONEY_RETURN:
		case RGM_THI_MONEY_RECOVERED:
		case RGM_THI_MONEY_RETURNED: return RIU_VND;
		case RGM_LAND_RECOVER:
		case RGM_LAND_RETURN:
		case RGM_THI_LAND_RECOVERED:
		case RGM_THI_LAND_RETURNED: return RIU_CM2;
		default: return RIU_COUNT;
		}
	}
	return RIU_COUNT;
}

bool report_ind_dim_is_day(unsigned id)
{
	unsigned m;

	if (id < REPORT_IND_XLD_BASE || id >= REPORT_IND_GQ_BASE)
		return false;
	m = (id - REPORT_IND_XLD_BASE) % RXM_COUNT;
	return m == RXM_HANDLED || m == RXM_HANDLED_MANY;
}

const char *report_ind_help(unsigned id)
{
	if (id < RI_SINGLE_COUNT)
		return singles[id].help;
	if (id < REPORT_IND_GQ_BASE)
		return xld_help[(id - REPORT_IND_XLD_BASE) % RXM_COUNT];
	if (id < REPORT_IND_TCD_BASE)
		return gq_help[(id - REPORT_IND_GQ_BASE) % RGM_COUNT];
	if (id < REPORT_IND_COUNT)
		return "reception book (tiếp công dân), reception day";
	return NULL;
}
