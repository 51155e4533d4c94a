/*
 * test_routing_apply - the routing engine on real LMDB stores: intake events
 * in, routing events out, exactly as the consumer applies them.
 *
 *  - replay determinism: the same event list applied into two fresh stores
 *    (in different batch sizes) gives byte-identical routing feeds;
 *  - repeats, copies sent to several bodies, guide once, decided matters,
 *    transfer loops, officers' overrides, as event sequences;
 *  - re-homing on a merger, on reload and lazily on the next action.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apply.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/mem.h"
#include "routing_corpus.h"
#include "schema.h"
#include "testsupport.h"

#define BODY(x) DONTHU__V1__ENVELOPE__BODY_##x
#define ST(x) DONTHU__V1__CASE_STATUS__CASE_STATUS_##x
#define KN DONTHU__V1__PETITION_KIND__PETITION_KIND_COMPLAINT
#define TC DONTHU__V1__PETITION_KIND__PETITION_KIND_DENUNCIATION
#define PA DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK

static struct routing_rules *rules;
static struct cm_register *shipped;

/* ------------------------------------------------------------ fixture --- */

struct rstore {
	char *dir;
	struct cm_store *s;
	struct cm_feed *feed;
	struct routing_engine eng;
	struct routing_fieldmap *fm;
};

static void rstore_open(struct rstore *r, const struct cm_register *reg)
{
	struct cm_store_opts so = {.dbi_names = routing_dbi_names, .ndbi = ROUTING_DB_COUNT};
	struct cm_feed_opts fo = {.producer = "routing", .log_dbi = ROUTING_DB_LOG};

	memset(r, 0, sizeof(*r));
	r->dir = cm_test_tmpdir("routing-apply");
	so.path = r->dir;
	assert_int_equal(cm_store_open(&so, &r->s), 0);
	assert_int_equal(cm_store_write(r->s, routing_schema_init, NULL), 0);
	assert_int_equal(cm_feed_new(r->s, &fo, &r->feed), 0);
	r->fm = routing_fieldmap_build(reg);
	r->eng.rules = rules;
	r->eng.reg = reg;
	r->eng.fm = r->fm;
	r->eng.feed = r->feed;
}

static void rstore_bind(struct rstore *r, const struct cm_register *reg)
{
	routing_fieldmap_free(&r->fm);
	r->fm = routing_fieldmap_build(reg);
	r->eng.reg = reg;
	r->eng.fm = r->fm;
}

static void rstore_close(struct rstore *r)
{
	cm_feed_free(&r->feed);
	cm_store_close(&r->s);
	routing_fieldmap_free(&r->fm);
	cm_test_rmrf(r->dir);
	free(r->dir);
}

struct batch {
	struct routing_engine *e;
	cm_env **ev;
	size_t n;
};

static int batch_txn(struct cm_txn *t, void *arg)
{
	struct batch *b = arg;

	for (size_t i = 0; i < b->n; i++) {
		int rc = routing_apply(b->e, t, b->ev[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static void apply(struct rstore *r, cm_env **ev, size_t n)
{
	struct batch b = {&r->eng, ev, n};

	assert_int_equal(cm_store_write(r->s, batch_txn, &b), 0);
	cm_feed_committed(r->feed);
}

/* Every routing event so far, decoded; caller frees with free_events. */
struct events {
	cm_env **ev;
	size_t n;
	uint8_t *bytes;	/* all raw events, concatenated with lengths */
	size_t nbytes;
};

static int collect_cb(uint64_t seq, const void *buf, size_t len, void *arg)
{
	struct events *e = arg;
	cm_env *ev = NULL;

	(void)seq;
	if (cm_env_unpack(buf, len, &ev))
		return CM_EDECODE;
	e->ev = cm_xrealloc(e->ev, (e->n + 1) * sizeof(*e->ev));
	e->ev[e->n++] = ev;
	e->bytes = cm_xrealloc(e->bytes, e->nbytes + len + 8);
	cm_be64_put(e->bytes + e->nbytes, len);
	memcpy(e->bytes + e->nbytes + 8, buf, len);
	e->nbytes += len + 8;
	return 0;
}

static void read_events(struct rstore *r, uint64_t from, struct events *out)
{
	memset(out, 0, sizeof(*out));
	for (;;) {
		int n = cm_feed_read(r->feed, from, 1000, collect_cb, out);
		assert_true(n >= 0);
		if (n == 0)
			break;
		from += (uint64_t)n;
	}
}

static void free_events(struct events *e)
{
	for (size_t i = 0; i < e->n; i++)
		cm_env_free(&e->ev[i]);
	free(e->ev);
	free(e->bytes);
	memset(e, 0, sizeof(*e));
}

/* The events about one case, in order, as a compact string such as
 * "classified assigned:UBND-20242:RULE filed:DUPLICATE". */
static void describe(const struct events *e, const char *case_number, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < e->n && o < cap; i++) {
		const cm_env *ev = e->ev[i];
		char one[200];

		if (strcmp(ev->case_number, case_number) != 0)
			continue;
		switch (ev->body_case) {
		case BODY(CLASSIFIED):
			snprintf(one, sizeof(one), "classified%s%s",
				 ev->classified->within_competence ? "" : ":outside",
				 ev->classified->eligible ? "" : ":ineligible");
			break;
		case BODY(ASSIGNED):
			snprintf(one, sizeof(one), "assigned:%s:%s", ev->assigned->agency,
				 ev->assigned->reason == 1   ? "RULE"
				 : ev->assigned->reason == 2 ? "OVERRIDE"
							     : "REHOMED");
			break;
		case BODY(TRANSFERRED):
			snprintf(one, sizeof(one), "%s:%s",
				 ev->transferred->kind == 1   ? "guided"
				 : ev->transferred->kind == 2 ? "forwarded"
							      : "returned",
				 ev->transferred->to_agency);
			break;
		case BODY(FILED):
			snprintf(one, sizeof(one), "filed:%s", ev->filed->rule_id);
			break;
		case BODY(DUPLICATE_LINKED):
			snprintf(one, sizeof(one), "linked:%s:%s", ev->duplicate_linked->original_case,
				 ev->duplicate_linked->sent_to_several_bodies ? "several"
				 : ev->duplicate_linked->repeat		      ? "repeat"
									      : "copy");
			break;
		case BODY(FLAGGED):
			snprintf(one, sizeof(one), "flag:%d", ev->flagged->kind);
			break;
		default:
			snprintf(one, sizeof(one), "?");
			break;
		}
		o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? " " : "", one);
	}
}

/* -------------------------------------------------- building events --- */

struct pet_opts {
	int kind;
	const char *receiving, *issuing, *managing, *respondent;
	const char *field, *location, *forwarded_by, *also;
	int channel;
	uint32_t person;	/* pseudonym; 0 = anonymous */
	const char *summary, *text;
	const char *date;	/* received */
	int round;
	const char *prior;
	bool attach;
};

static uint64_t next_seq = 1;

static int64_t ms_of(const char *date)
{
	cm_day_t d;

	assert_int_equal(cm_day_parse(date, &d), 0);
	return cm_day_start_ms(d) + 9 * 3600 * 1000;
}

/* A PetitionReceived envelope as intake emits it; packed and unpacked so
 * it is owned like one read from the feed. */
static cm_env *petition(const char *case_number, const struct pet_opts *o)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT, *out = NULL;
	Donthu__V1__PetitionReceived pr = DONTHU__V1__PETITION_RECEIVED__INIT;
	Donthu__V1__Petition p = DONTHU__V1__PETITION__INIT;
	Donthu__V1__Respondent r = DONTHU__V1__RESPONDENT__INIT;
	Donthu__V1__PriorDecision pd = DONTHU__V1__PRIOR_DECISION__INIT;
	Donthu__V1__PersonRef ref = DONTHU__V1__PERSON_REF__INIT, *refs[1] = {&ref};
	Donthu__V1__Attachment att = DONTHU__V1__ATTACHMENT__INIT, *atts[1] = {&att};
	uint8_t pseud[32] = {0}, *buf;
	char *also[1];
	size_t len;

	p.kind = (Donthu__V1__PetitionKind)o->kind;
	p.channel = o->channel ? (Donthu__V1__Channel)o->channel : DONTHU__V1__CHANNEL__CHANNEL_POST;
	p.received_at_ms = ms_of(o->date ? o->date : "2026-03-10");
	p.receiving_agency = (char *)o->receiving;
	p.signer_count = 1;
	p.signed_ = true;
	p.summary = (char *)(o->summary ? o->summary : "nội dung");
	p.text = (char *)(o->text ? o->text : "");
	p.field = (char *)(o->field ? o->field : "");
	p.location_unit = (char *)(o->location ? o->location : "");
	p.forwarded_by = (char *)(o->forwarded_by ? o->forwarded_by : "");
	p.round = (Donthu__V1__ComplaintRound)o->round;
	if (o->kind == KN && !o->round)
		p.round = DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_FIRST;
	if (o->issuing || o->managing || o->respondent) {
		r.name = (char *)(o->respondent ? o->respondent : "");
		r.issuing_agency = (char *)(o->issuing ? o->issuing : "");
		r.managing_agency = (char *)(o->managing ? o->managing : "");
		p.respondent = &r;
	}
	if (o->prior) {
		pd.number = "1/QĐ";
		pd.date = "2025-12-01";
		pd.issuing_agency = (char *)o->prior;
		p.prior_decision = &pd;
	}
	if (o->also) {
		also[0] = (char *)o->also;
		p.also_sent_to = also;
		p.n_also_sent_to = 1;
	}
	if (o->attach) {
		p.attachments = atts;
		p.n_attachments = 1;
	}
	if (o->person) {
		memcpy(pseud, &o->person, sizeof(o->person));
		ref.pseudonym.data = pseud;
		ref.pseudonym.len = 32;
		pr.petitioners = refs;
		pr.n_petitioners = 1;
	} else {
		p.anonymous = true;
	}
	pr.case_number = (char *)case_number;
	pr.petition = &p;
	pr.registered_at_ms = p.received_at_ms + 1000;
	ev.schema_version = 1;
	ev.producer = "intake";
	ev.sequence = next_seq++;
	ev.occurred_at_ms = p.received_at_ms + 1000;
	ev.case_number = (char *)case_number;
	ev.body_case = BODY(PETITION_RECEIVED);
	ev.petition_received = &pr;
	assert_int_equal(cm_env_pack_alloc(&ev, &buf, &len), 0);
	assert_int_equal(cm_env_unpack(buf, len, &out), 0);
	free(buf);
	return out;
}

enum act { A_ACCEPT, A_GUIDE, A_FORWARD, A_REASSIGN, A_DECIDE, A_CLOSE, A_FILE };

static cm_env *action(const char *case_number, enum act kind, const char *to, const char *date,
		      Donthu__V1__CaseStatus after)
{
	cm_env ev = DONTHU__V1__ENVELOPE__INIT, *out = NULL;
	Donthu__V1__CaseActionRecorded car = DONTHU__V1__CASE_ACTION_RECORDED__INIT;
	Donthu__V1__CaseAction a = DONTHU__V1__CASE_ACTION__INIT;
	Donthu__V1__Accept acc = DONTHU__V1__ACCEPT__INIT;
	Donthu__V1__Guide g = DONTHU__V1__GUIDE__INIT;
	Donthu__V1__Forward f = DONTHU__V1__FORWARD__INIT;
	Donthu__V1__Reassign re = DONTHU__V1__REASSIGN__INIT;
	Donthu__V1__Decide de = DONTHU__V1__DECIDE__INIT;
	Donthu__V1__Close cl = DONTHU__V1__CLOSE__INIT;
	Donthu__V1__FileAway fa = DONTHU__V1__FILE_AWAY__INIT;
	uint8_t *buf;
	size_t len;

	a.case_number = (char *)case_number;
	a.effective_at_ms = ms_of(date);
	switch (kind) {
	case A_ACCEPT:
		acc.complexity = DONTHU__V1__COMPLEXITY__COMPLEXITY_NORMAL;
		a.action_case = DONTHU__V1__CASE_ACTION__ACTION_ACCEPT;
		a.accept = &acc;
		break;
	case A_GUIDE:
		g.to_agency = (char *)to;
		a.action_case = DONTHU__V1__CASE_ACTION__ACTION_GUIDE;
		a.guide = &g;
		break;
	case A_FORWARD:
		f.to_agency = (char *)to;
		a.action_case = DONTHU__V1__CASE_ACTION__ACTION_FORWARD;
		a.forward = &f;
		break;
	case A_REASSIGN:
		re.to_agency = (char *)to;
		re.reason = "thuộc thẩm quyền của cơ quan khác";
		a.action_case = DONTHU__V1__CASE_ACTION__ACTION_REASSIGN;
		a.reassign = &re;
		break;
	case A_DECIDE:
		de.outcome = DONTHU__V1__DECISION_OUTCOME__DECISION_OUTCOME_WRONG;
		a.action_case = DONTHU__V1__CASE_ACTION__ACTION_DECIDE;
		a.decide = &de;
		break;
	case A_CLOSE:
		a.action_case = DONTHU__V1__CASE_ACTION__ACTION_CLOSE;
		a.close = &cl;
		break;
	case A_FILE:
		fa.reason = DONTHU__V1__FILE_REASON__FILE_REASON_INELIGIBLE;
		a.action_case = DONTHU__V1__CASE_ACTION__ACTION_FILE_AWAY;
		a.file_away = &fa;
		break;
	}
	car.case_number = (char *)case_number;
	car.action = &a;
	car.status_after = after;
	ev.schema_version = 1;
	ev.producer = "intake";
	ev.sequence = next_seq++;
	ev.occurred_at_ms = a.effective_at_ms + 60000;
	ev.case_number = (char *)case_number;
	ev.body_case = BODY(CASE_ACTION);
	ev.case_action = &car;
	assert_int_equal(cm_env_pack_alloc(&ev, &buf, &len), 0);
	assert_int_equal(cm_env_unpack(buf, len, &out), 0);
	free(buf);
	return out;
}

static void apply1(struct rstore *r, cm_env *ev)
{
	apply(r, &ev, 1);
	cm_env_free(&ev);
}

static void expect_case(struct rstore *r, const char *case_number, const char *want)
{
	struct events e;
	char got[2048];

	read_events(r, 1, &e);
	describe(&e, case_number, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fprintf(stderr, "case %s:\n  got  %s\n  want %s\n", case_number, got, want);
	assert_string_equal(got, want);
	free_events(&e);
}

static int setup(void **state)
{
	char err[512];

	(void)state;
	if (routing_rules_load(DONTHU_DATA_DIR "/routing/rules.json", &rules, err, sizeof(err)) ||
	    cm_register_load(DONTHU_DATA_DIR "/register", &shipped, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	routing_rules_free(&rules);
	cm_register_free(&shipped);
	return 0;
}

/* ------------------------------------------------------------ tests --- */

static const char *land =
	"Gia đình tôi nhận quyết định thu hồi đất số 12/QĐ-UBND đối với thửa đất số 45. Mức "
	"bồi thường thấp hơn nhiều so với giá thị trường. Đề nghị xem xét lại giá bồi thường và "
	"bố trí tái định cư.";
static const char *land_again =
	"Mức đền bù thấp hơn nhiều so với giá thị trường, gia đình tôi nhận quyết định thu hồi đất "
	"so 12/QĐ-UBND doi voi thua dat so 45. Yêu cầu xem xét lại giá bồi thường và bố trí tái "
	"định cư.";
static const char *school =
	"Nhà trường thu của học sinh các khoản quỹ lớp, tiền máy lạnh không có biên lai. Đề nghị "
	"kiểm tra và trả lại các khoản thu sai.";

static void test_repeat_joins_open_case(void **state)
{
	struct rstore r;
	struct pet_opts o = {.kind = KN, .receiving = "UBND-20242", .issuing = "UBND-20242",
			     .respondent = "UBND phường Hải Châu", .person = 7, .text = land};

	(void)state;
	rstore_open(&r, shipped);
	apply1(&r, petition("C-1", &o));
	o.text = land_again;
	o.date = "2026-03-20";
	apply1(&r, petition("C-2", &o));
	/* Another matter of the same person about the same body is not a repeat. */
	o.text = school;
	apply1(&r, petition("C-3", &o));
	/* The same text from someone else is not a repeat either. */
	o.text = land;
	o.person = 8;
	apply1(&r, petition("C-4", &o));
	expect_case(&r, "C-1", "classified assigned:UBND-20242:RULE");
	expect_case(&r, "C-2", "classified linked:C-1:repeat filed:h.repeat.open");
	expect_case(&r, "C-3", "classified assigned:UBND-20242:RULE");
	expect_case(&r, "C-4", "classified assigned:UBND-20242:RULE");
	/* The same petition delivered again changes nothing. */
	{
		uint64_t head = cm_feed_head(r.feed);
		o.person = 7;
		next_seq -= 1;
		apply1(&r, petition("C-4", &o));
		assert_int_equal(cm_feed_head(r.feed), head);
	}
	rstore_close(&r);
}

static void test_several_bodies(void **state)
{
	struct rstore r;
	struct pet_opts o = {.kind = TC, .receiving = "DN-SXD", .managing = "DN-SXD",
			     .respondent = "Ông Trần Văn Bình, thanh tra xây dựng", .person = 11,
			     .text = land, .date = "2026-04-01"};

	(void)state;
	rstore_open(&r, shipped);
	apply1(&r, petition("T-1", &o));
	/* The same denunciation, the same week, at a commune that is not
	 * competent: that body does not process it (Luật TC Đ24 k3). */
	o.receiving = "UBND-20242";
	o.date = "2026-04-03";
	o.text = land_again;
	apply1(&r, petition("T-2", &o));
	expect_case(&r, "T-1", "classified assigned:DN-SXD:RULE");
	expect_case(&r, "T-2", "classified:outside linked:T-1:several flag:5 filed:h.tc.several_bodies");

	/* A commune forwards a denunciation to the competent department, which
	 * registers it before the commune's officer has recorded the forward:
	 * the department handles it (the same matter arriving, not a repeat of
	 * the still open case at the commune). */
	o.person = 12;
	o.receiving = "UBND-20242";
	o.date = "2026-04-10";
	o.text = school;
	apply1(&r, petition("T-3", &o));
	o.receiving = "DN-SXD";
	o.channel = DONTHU__V1__CHANNEL__CHANNEL_FORWARDED;
	o.forwarded_by = "UBND-20242";
	o.date = "2026-04-13";
	apply1(&r, petition("T-4", &o));
	expect_case(&r, "T-3", "classified:outside forwarded:DN-SXD");
	expect_case(&r, "T-4", "classified linked:T-3:copy assigned:DN-SXD:RULE");
	rstore_close(&r);
}

static void test_guide_once_and_decided(void **state)
{
	struct rstore r;
	struct pet_opts o = {.kind = KN, .receiving = "UBND-20242", .issuing = "UBND-20257",
			     .respondent = "UBND phường Hòa Cường", .person = 21, .text = land};

	(void)state;
	rstore_open(&r, shipped);
	apply1(&r, petition("G-1", &o));
	apply1(&r, action("G-1", A_GUIDE, "UBND-20257", "2026-03-12", ST(GUIDED)));
	o.date = "2026-04-10";
	o.text = land_again;
	apply1(&r, petition("G-2", &o));
	expect_case(&r, "G-1", "classified:outside guided:UBND-20257 guided:UBND-20257");
	expect_case(&r, "G-2", "classified:outside linked:G-1:repeat filed:h.kn.guide_once");

	/* Decided at the competent body; a repeat after the decision took legal
	 * effect, with nothing new, is filed; with new documents it is not. */
	o.receiving = "UBND-20257";
	o.person = 22;
	o.text = land;
	o.date = "2026-03-10";
	apply1(&r, petition("D-1", &o));
	apply1(&r, action("D-1", A_ACCEPT, NULL, "2026-03-15", ST(ACCEPTED)));
	apply1(&r, action("D-1", A_DECIDE, NULL, "2026-04-01", ST(DECIDED)));
	apply1(&r, action("D-1", A_CLOSE, NULL, "2026-04-05", ST(CLOSED)));
	o.date = "2026-05-20";
	o.text = land_again;
	apply1(&r, petition("D-2", &o));
	o.attach = true;
	apply1(&r, petition("D-3", &o));
	expect_case(&r, "D-1", "classified assigned:UBND-20257:RULE");
	expect_case(&r, "D-2", "classified linked:D-1:repeat filed:h.kn.decided");
	expect_case(&r, "D-3", "classified linked:D-1:repeat assigned:UBND-20257:RULE");
	rstore_close(&r);
}

static void test_transfer_loop(void **state)
{
	struct rstore r;
	struct pet_opts o = {.kind = PA, .receiving = "UBND-20242", .field = "giao-duc",
			     .location = "20242", .person = 31, .text = school};

	(void)state;
	rstore_open(&r, shipped);
	/* The commune forwards a school matter to the education department ... */
	apply1(&r, petition("L-1", &o));
	apply1(&r, action("L-1", A_FORWARD, "DN-SGDDT", "2026-03-11", ST(FORWARDED)));
	/* ... which registers it and, reading it as a local matter, sends it
	 * back to the commune: A → B → A. */
	o.receiving = "DN-SGDDT";
	o.channel = DONTHU__V1__CHANNEL__CHANNEL_FORWARDED;
	o.forwarded_by = "UBND-20242";
	o.field = "moi-truong";
	o.date = "2026-03-16";
	apply1(&r, petition("L-2", &o));
	expect_case(&r, "L-1", "classified:outside forwarded:DN-SGDDT forwarded:DN-SGDDT");
	/* Every decision names its rule and that rule's legal basis. */
	{
		struct events e;
		read_events(&r, 1, &e);
		for (size_t i = 0; i < e.n; i++) {
			const cm_env *ev = e.ev[i];
			const char *basis = ev->body_case == BODY(CLASSIFIED)	 ? ev->classified->legal_basis
					    : ev->body_case == BODY(ASSIGNED)	 ? ev->assigned->legal_basis
					    : ev->body_case == BODY(TRANSFERRED) ? ev->transferred->legal_basis
					    : ev->body_case == BODY(FILED)	 ? ev->filed->legal_basis
					    : ev->body_case == BODY(DUPLICATE_LINKED)
						    ? ev->duplicate_linked->legal_basis
					    : ev->body_case == BODY(FLAGGED) ? ev->flagged->legal_basis
									     : NULL;
			assert_non_null(basis);
			assert_true(strlen(basis) > 10);
		}
		free_events(&e);
	}
	expect_case(&r, "L-2", "classified:outside linked:L-1:copy flag:4 forwarded:UBND-20242");
	{
		struct events e;
		read_events(&r, 1, &e);
		for (size_t i = 0; i < e.n; i++)
			if (e.ev[i]->body_case == BODY(FLAGGED) &&
			    e.ev[i]->flagged->kind == DONTHU__V1__FLAG_KIND__FLAG_KIND_TRANSFER_LOOP) {
				assert_string_equal(e.ev[i]->flagged->detail,
						    "UBND-20242 → DN-SGDDT → UBND-20242");
				assert_string_equal(e.ev[i]->flagged->rule_id, "flag.transfer_loop");
				assert_true(strlen(e.ev[i]->flagged->legal_basis) > 10);
			}
		free_events(&e);
	}
	/* An officer overrides: the department keeps it after all. */
	apply1(&r, action("L-2", A_REASSIGN, "DN-SGDDT", "2026-03-17", ST(RECEIVED)));
	apply1(&r, action("L-2", A_REASSIGN, "DN-SYT", "2026-03-18", ST(RECEIVED)));
	expect_case(&r, "L-2", "classified:outside linked:L-1:copy flag:4 forwarded:UBND-20242 "
			       "assigned:DN-SYT:OVERRIDE");
	rstore_close(&r);
}

/* --------------------------------------------------------- re-homing --- */

static const char *fields_csv = "code,name_vi,description\n"
				"quan-ly-chung,Quản lý chung,chung\n"
				"moi-truong,Môi trường,môi trường\n";

static void write_register(const char *dir, bool merged)
{
	char *units, *agencies;

	cm_test_write_file(dir, "fields.csv", fields_csv);
	units = cm_xasprintf(
		"code,name,type,province_code,effective_from,effective_to,successor_code,"
		"formed_from,source_note\n"
		"U1,Xã Một,xa,99,2025-07-01,%s,%s,,t\n"
		"U2,Xã Hai,xa,99,2025-07-01,%s,%s,,t\n"
		"%s",
		merged ? "2026-06-30" : "", merged ? "U3" : "", merged ? "2026-06-30" : "",
		merged ? "U3" : "", merged ? "U3,Xã Ba,xa,99,2026-07-01,,,U1;U2,t\n" : "");
	agencies = cm_xasprintf(
		"code,name,level,parent_code,fields,units,effective_from,effective_to,"
		"successor_code,source_note\n"
		"P-UBND,UBND tỉnh,province,,quan-ly-chung,,2025-07-01,,,t\n"
		"P-SMT,Sở Môi trường,department,P-UBND,moi-truong,,2025-07-01,,,t\n"
		"UBND-U1,UBND xã Một,commune,P-UBND,quan-ly-chung,U1,2025-07-01,%s,%s,t\n"
		"UBND-U2,UBND xã Hai,commune,P-UBND,quan-ly-chung,U2,2025-07-01,%s,%s,t\n"
		"%s",
		merged ? "2026-06-30" : "", merged ? "UBND-U3" : "", merged ? "2026-06-30" : "",
		merged ? "UBND-U3" : "",
		merged ? "UBND-U3,UBND xã Ba,commune,P-UBND,quan-ly-chung,U3,2026-07-01,,,t\n" : "");
	cm_test_write_file(dir, "units.csv", units);
	cm_test_write_file(dir, "agencies.csv", agencies);
	free(units);
	free(agencies);
}

struct rehome_ctx {
	struct routing_engine *e;
	cm_day_t day;
	uint64_t moved;
};

static int rehome_txn(struct cm_txn *t, void *arg)
{
	struct rehome_ctx *x = arg;

	return routing_rehome_open(x->e, t, x->day, cm_day_start_ms(x->day), &x->moved);
}

static int open_at(struct cm_txn *t, void *arg)
{
	const char **q = arg; /* q[0] agency, q[1] case -> result in q[2] ("y"/"n") */
	char k[160];
	struct cm_val v;
	int n = snprintf(k, sizeof(k), "%s%c%s", q[0], 0, q[1]);
	int rc = cm_txn_get(t, ROUTING_DB_OPEN, k, (size_t)n, &v);

	q[2] = rc == 0 ? "y" : "n";
	return rc == -ENOENT ? 0 : rc;
}

static bool is_open_at(struct rstore *r, const char *agency, const char *case_number)
{
	const char *q[3] = {agency, case_number, NULL};

	assert_int_equal(cm_store_read(r->s, open_at, q), 0);
	return q[2][0] == 'y';
}

static void test_rehome_on_merger(void **state)
{
	char *before = cm_test_tmpdir("routing-reg1"), *after = cm_test_tmpdir("routing-reg2");
	struct cm_register *r1 = NULL, *r2 = NULL;
	struct rstore r;
	struct pet_opts o = {.kind = KN, .receiving = "UBND-U1", .issuing = "UBND-U1",
			     .respondent = "UBND xã Một", .person = 41, .text = land,
			     .date = "2026-05-04"};
	struct rehome_ctx x;
	char err[512];

	(void)state;
	write_register(before, false);
	write_register(after, true);
	assert_int_equal(cm_register_load(before, &r1, err, sizeof(err)), 0);
	assert_int_equal(cm_register_load(after, &r2, err, sizeof(err)), 0);
	rstore_open(&r, r1);
	apply1(&r, petition("M-1", &o));	/* open at UBND-U1 */
	o.person = 42;
	apply1(&r, petition("M-2", &o));	/* open, then closed */
	apply1(&r, action("M-2", A_FILE, NULL, "2026-05-06", ST(FILED)));
	o.person = 43;
	o.receiving = "UBND-U2";
	o.issuing = "UBND-U2";
	o.respondent = "UBND xã Hai";
	apply1(&r, petition("M-3", &o));	/* open at UBND-U2 */
	o.person = 44;
	apply1(&r, petition("M-4", &o));	/* re-homed lazily below */
	assert_true(is_open_at(&r, "UBND-U1", "M-1"));
	assert_false(is_open_at(&r, "UBND-U1", "M-2"));

	/* The register is reloaded with the merger of 1 July 2026. Before that
	 * day nothing moves. */
	rstore_bind(&r, r2);
	x = (struct rehome_ctx){&r.eng, cm_day_from_ymd(2026, 6, 30), 0};
	assert_int_equal(cm_store_write(r.s, rehome_txn, &x), 0);
	assert_int_equal(x.moved, 0);
	/* An action after the merger finds M-4's commune gone. */
	apply1(&r, action("M-4", A_ACCEPT, NULL, "2026-07-02", ST(ACCEPTED)));
	expect_case(&r, "M-4", "classified assigned:UBND-U2:RULE assigned:UBND-U3:REHOMED");
	/* From the merger on, the open cases of both communes go to the new
	 * one; the filed case stays where it was. */
	x = (struct rehome_ctx){&r.eng, cm_day_from_ymd(2026, 7, 1), 0};
	assert_int_equal(cm_store_write(r.s, rehome_txn, &x), 0);
	cm_feed_committed(r.feed);
	assert_int_equal(x.moved, 2);
	expect_case(&r, "M-1", "classified assigned:UBND-U1:RULE assigned:UBND-U3:REHOMED");
	expect_case(&r, "M-2", "classified assigned:UBND-U1:RULE filed:act.file_away");
	expect_case(&r, "M-3", "classified assigned:UBND-U2:RULE assigned:UBND-U3:REHOMED");
	assert_false(is_open_at(&r, "UBND-U1", "M-1"));
	assert_true(is_open_at(&r, "UBND-U3", "M-1"));
	assert_true(is_open_at(&r, "UBND-U3", "M-3"));
	assert_true(is_open_at(&r, "UBND-U3", "M-4"));
	/* Running it again moves nothing. */
	assert_int_equal(cm_store_write(r.s, rehome_txn, &x), 0);
	assert_int_equal(x.moved, 0);
	{
		struct events e;
		read_events(&r, 1, &e);
		for (size_t i = 0; i < e.n; i++)
			if (e.ev[i]->body_case == BODY(ASSIGNED) &&
			    e.ev[i]->assigned->reason ==
				    DONTHU__V1__ASSIGN_REASON__ASSIGN_REASON_REHOMED) {
				assert_string_equal(e.ev[i]->assigned->rule_id, "org.rehome");
				assert_true(strlen(e.ev[i]->assigned->legal_basis) > 10);
				assert_non_null(strstr(e.ev[i]->assigned->note, "ended 2026-06-30"));
			}
		free_events(&e);
	}
	/* A complaint received after the merger against the old commune's
	 * decision goes straight to the successor. */
	o.person = 45;
	o.date = "2026-08-01";
	o.receiving = "UBND-U3";
	o.issuing = "UBND-U1";
	apply1(&r, petition("M-5", &o));
	expect_case(&r, "M-5", "classified assigned:UBND-U3:REHOMED");

	rstore_close(&r);
	cm_register_free(&r1);
	cm_register_free(&r2);
	cm_test_rmrf(before);
	cm_test_rmrf(after);
	free(before);
	free(after);
}

/* -------------------------------------------------------- determinism --- */

static cm_env **make_stream(size_t *n)
{
	static const char *const agencies[] = {"UBND-20242", "UBND-20257", "DN-SXD", "DN-TTR",
					       "DN-UBND",    "DN-SYT",	   "UBND-20209"};
	struct corpus co;
	cm_env **ev;
	size_t cap;

	corpus_build(&co, 60, 99);
	cap = co.n * 2 + 16;
	ev = cm_xcalloc(cap, sizeof(*ev));
	*n = 0;
	for (size_t i = 0; i < co.n && *n + 2 < cap; i++) {
		const struct corpus_doc *d = &co.docs[i];
		char num[32], date[16];
		const char *recv = agencies[(d->person + d->matter) % CM_ARRAY_LEN(agencies)];
		struct pet_opts o = {.receiving = recv, .person = d->person + 1,
				     .respondent = d->respondent, .summary = d->summary,
				     .text = d->text};

		snprintf(num, sizeof(num), "X-%zu", i);
		snprintf(date, sizeof(date), "2026-%02zu-%02zu", 1 + i / 200 % 12, 1 + i % 28);
		o.date = date;
		switch (d->matter % 4) {
		case 0:
			o.kind = KN;
			o.issuing = agencies[d->matter % CM_ARRAY_LEN(agencies)];
			break;
		case 1:
			o.kind = TC;
			o.managing = agencies[(d->matter + 1) % CM_ARRAY_LEN(agencies)];
			break;
		default:
			o.kind = PA;
			o.field = d->matter % 3 ? "moi-truong" : "giao-duc";
			o.location = "20242";
			break;
		}
		ev[(*n)++] = petition(num, &o);
		if (i % 5 == 0)
			ev[(*n)++] = action(num, A_FORWARD, "DN-TTR", date, ST(FORWARDED));
		else if (i % 7 == 0)
			ev[(*n)++] = action(num, A_REASSIGN, "DN-STC", date, ST(RECEIVED));
	}
	corpus_free(&co);
	return ev;
}

static void test_replay_is_identical(void **state)
{
	struct rstore a, b;
	struct events ea, eb;
	cm_env **ev;
	size_t n;

	(void)state;
	ev = make_stream(&n);
	rstore_open(&a, shipped);
	rstore_open(&b, shipped);
	/* One big batch into one store, batches of seven into the other. */
	apply(&a, ev, n);
	for (size_t i = 0; i < n; i += 7)
		apply(&b, ev + i, n - i < 7 ? n - i : 7);
	read_events(&a, 1, &ea);
	read_events(&b, 1, &eb);
	printf("replay: %zu intake events -> %zu routing events, %zu bytes\n", n, ea.n, ea.nbytes);
	assert_true(ea.n > n);
	assert_int_equal(ea.nbytes, eb.nbytes);
	assert_memory_equal(ea.bytes, eb.bytes, ea.nbytes);
	free_events(&ea);
	free_events(&eb);
	rstore_close(&a);
	rstore_close(&b);
	for (size_t i = 0; i < n; i++)
		cm_env_free(&ev[i]);
	free(ev);
}

static void test_unknown_case_and_garbage(void **state)
{
	struct rstore r;
	cm_env *ev = action("NOPE-1", A_CLOSE, NULL, "2026-03-10", ST(CLOSED));
	cm_env empty = DONTHU__V1__ENVELOPE__INIT;

	(void)state;
	rstore_open(&r, shipped);
	apply1(&r, ev);
	{
		cm_env *p = &empty;
		empty.body_case = BODY(PETITION_RECEIVED);
		apply(&r, &p, 1); /* no petition in it: skipped */
	}
	assert_int_equal(cm_feed_head(r.feed), 0);
	rstore_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeat_joins_open_case),
		cmocka_unit_test(test_several_bodies),
		cmocka_unit_test(test_guide_once_and_decided),
		cmocka_unit_test(test_transfer_loop),
		cmocka_unit_test(test_rehome_on_merger),
		cmocka_unit_test(test_replay_is_identical),
		cmocka_unit_test(test_unknown_case_and_garbage),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
