#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/envelope.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/register.h"
#include "validate.h"

/*
 * Every bad-input case starts from a valid request built on the stack, changes
 * one thing, goes through pack and unpack (so the validator sees what
 * protobuf-c gives the service, with malloc'ed strings it may replace), and
 * must be refused with the expected code and field path.
 */

static struct cm_register *reg;
static int64_t now_ms;
static int64_t received_ms;

static const char agencies_csv[] =
	"code,name,level,parent_code,fields,units,effective_from,effective_to,successor_code,"
	"source_note\n"
	"DN-UBND,Ủy ban nhân dân thành phố Đà Nẵng,province,,tiep-cong-dan,,1997-01-01,,,test\n"
	"DN-TTR,Thanh tra thành phố Đà Nẵng,inspectorate,DN-UBND,tiep-cong-dan;dat-dai,,,,,test\n"
	"DN-STNMT,Sở Tài nguyên và Môi trường,department,DN-UBND,dat-dai,,,2025-02-28,DN-SNNMT,"
	"test\n"
	"DN-SNNMT,Sở Nông nghiệp và Môi trường,department,DN-UBND,dat-dai,,2025-03-01,,,test\n"
	"HC-UBND,Ủy ban nhân dân phường Hòa Cường,commune,DN-UBND,tiep-cong-dan,20257,"
	"2025-07-01,,,test\n";
static const char units_csv[] =
	"code,name,type,province_code,effective_from,effective_to,successor_code,formed_from,"
	"source_note\n"
	"OLD-HCB,Phường Hòa Cường Bắc,phuong,48,1997-01-01,2025-06-30,20257,,test\n"
	"20257,Phường Hòa Cường,phuong,48,2025-07-01,,,OLD-HCB,test\n";
static const char fields_csv[] = "code,name_vi,description\n"
				 "dat-dai,Đất đai,quản lý đất đai\n"
				 "tiep-cong-dan,Tiếp công dân,tiếp công dân\n";

static void write_file(const char *dir, const char *name, const char *body)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(body, 1, strlen(body), f), strlen(body));
	assert_int_equal(fclose(f), 0);
}

static void remove_file(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(unlink(path), 0);
}

static int setup(void **state)
{
	char dir[] = "/tmp/test_validate.XXXXXX";
	char err[256] = "";

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "agencies.csv", agencies_csv);
	write_file(dir, "units.csv", units_csv);
	write_file(dir, "fields.csv", fields_csv);
	if (cm_register_load(dir, &reg, err, sizeof(err)) != 0)
		fail_msg("register: %s", err);
	remove_file(dir, "agencies.csv");
	remove_file(dir, "units.csv");
	remove_file(dir, "fields.csv");
	assert_int_equal(rmdir(dir), 0);

	now_ms = cm_day_start_ms(cm_day_from_ymd(2026, 8, 1)) + 10 * 3600 * 1000LL;
	received_ms = cm_day_start_ms(cm_day_from_ymd(2026, 7, 30)) + 9 * 3600 * 1000LL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cm_register_free(&reg);
	return 0;
}

/* ---- the fixture: every message a request may hold, on the heap --------- */

#define BIG (INTAKE_MAX_TEXT + 16)

struct fx {
	Donthu__V1__SubmitRequest req;
	Donthu__V1__IdempotencyKey key;

	Donthu__V1__Petition pet;
	Donthu__V1__Person people[INTAKE_MAX_PETITIONERS + 1];
	Donthu__V1__Person *ppeople[INTAKE_MAX_PETITIONERS + 1];
	Donthu__V1__Respondent resp;
	Donthu__V1__PriorDecision prior;
	Donthu__V1__Attachment att[INTAKE_MAX_ATTACHMENTS + 1];
	Donthu__V1__Attachment *patt[INTAKE_MAX_ATTACHMENTS + 1];
	uint8_t sha[32];
	char *also[INTAKE_MAX_ALSO_SENT_TO + 1];

	Donthu__V1__CaseAction act;
	Donthu__V1__Accept accept;
	Donthu__V1__Refuse refuse;
	Donthu__V1__Guide guide;
	Donthu__V1__Forward forward;
	Donthu__V1__Return give_back;
	Donthu__V1__FileAway file_away;
	Donthu__V1__Extend extend;
	Donthu__V1__Suspend suspend;
	Donthu__V1__Resume resume;
	Donthu__V1__Withdraw withdraw;
	Donthu__V1__Terminate terminate;
	Donthu__V1__Decide decide;
	Donthu__V1__Enforcement enforcement;
	Donthu__V1__Recomplaint recomplaint;
	Donthu__V1__Reassign reassign;
	Donthu__V1__Urge urge;
	Donthu__V1__Close close;

	Donthu__V1__ReceptionRecord rec;
	Donthu__V1__ReceptionSchedule sch;
	char *dates[INTAKE_MAX_PLANNED_DATES + 1];
	char datebuf[INTAKE_MAX_PLANNED_DATES + 1][11];
	Donthu__V1__ReceptionConclusion con;
	Donthu__V1__ConclusionTask task;
	Donthu__V1__ConclusionTask *ptask[INTAKE_MAX_TASKS + 1];

	char big[BIG];
};

static char *rep(struct fx *f, char c, size_t n)
{
	assert_true(n < BIG);
	memset(f->big, c, n);
	f->big[n] = '\0';
	return f->big;
}

static void person_init(Donthu__V1__Person *p)
{
	donthu__v1__person__init(p);
	p->full_name = "Nguyễn Văn An";
	p->id_kind = DONTHU__V1__ID_KIND__ID_KIND_CCCD;
	p->id_number = "048090001234";
	p->address = "12 Lê Lợi, phường Hải Châu, Đà Nẵng";
	p->phone = "+84 (905) 123-456";
	p->email = "an@example.vn";
}

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	donthu__v1__submit_request__init(&f->req);
	donthu__v1__idempotency_key__init(&f->key);
	f->req.request_id = 7;
	f->req.key = &f->key;
	f->key.source_system = "portal.danang";
	f->key.source_id = "2026/07/30-000123";
	for (size_t i = 0; i < CM_ARRAY_LEN(f->people); i++) {
		person_init(&f->people[i]);
		f->ppeople[i] = &f->people[i];
	}
	memset(f->sha, 0xab, sizeof(f->sha));
	for (size_t i = 0; i < CM_ARRAY_LEN(f->att); i++) {
		Donthu__V1__Attachment *a = &f->att[i];

		donthu__v1__attachment__init(a);
		a->sha256.data = f->sha;
		a->sha256.len = sizeof(f->sha);
		a->media_type = "application/pdf";
		a->size = 123456;
		a->uri = "s3://evidence/2026/abc.pdf";
		a->title = "Quyết định thu hồi đất";
		f->patt[i] = a;
	}
	for (size_t i = 0; i < CM_ARRAY_LEN(f->also); i++)
		f->also[i] = "Văn phòng Chính phủ";
	for (size_t i = 0; i < CM_ARRAY_LEN(f->ptask); i++)
		f->ptask[i] = &f->task;
	return f;
}

/* ---- valid bases -------------------------------------------------------- */

static void b_complaint(struct fx *f)
{
	Donthu__V1__Petition *p = &f->pet;

	donthu__v1__petition__init(p);
	donthu__v1__respondent__init(&f->resp);
	donthu__v1__prior_decision__init(&f->prior);
	f->req.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_PETITION;
	f->req.petition = p;
	p->channel = DONTHU__V1__CHANNEL__CHANNEL_IN_PERSON;
	p->received_at_ms = received_ms;
	p->receiving_agency = "DN-TTR";
	p->kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_COMPLAINT;
	p->complaint_subject = DONTHU__V1__COMPLAINT_SUBJECT__COMPLAINT_SUBJECT_ADMINISTRATIVE_DECISION;
	p->n_petitioners = 1;
	p->petitioners = f->ppeople;
	p->signer_count = 1;
	p->respondent = &f->resp;
	f->resp.name = "Chủ tịch UBND phường Hòa Cường";
	f->resp.issuing_agency = "HC-UBND";
	f->resp.decision_number = "123/QĐ-UBND";
	f->resp.decision_date = "2026-05-01";
	p->field = "dat-dai";
	p->summary = "Khiếu nại quyết định thu hồi đất";
	p->text = "Kính gửi Thanh tra thành phố,\n\tTôi khiếu nại ...";
	p->location_unit = "20257";
	p->round = DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_FIRST;
	p->n_attachments = 1;
	p->attachments = f->patt;
	p->source_id = "desk-17";
	p->signed_ = 1;
	p->petition_date = "2026-07-28";
	p->n_also_sent_to = 1;
	p->also_sent_to = f->also;
}

static void b_complaint2(struct fx *f)
{
	b_complaint(f);
	f->pet.receiving_agency = "DN-UBND";
	f->pet.round = DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_SECOND;
	f->pet.prior_decision = &f->prior;
	f->prior.number = "45/QĐ-UBND";
	f->prior.date = "2026-06-15";
	f->prior.issuing_agency = "HC-UBND";
	f->prior.outcome = DONTHU__V1__DECISION_OUTCOME__DECISION_OUTCOME_RIGHT;
}

static void b_denunciation(struct fx *f)
{
	b_complaint(f);
	f->pet.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_DENUNCIATION;
	f->pet.complaint_subject = 0;
	f->pet.round = 0;
	donthu__v1__respondent__init(&f->resp);
	f->resp.name = "Trần Văn Bình";
	f->resp.position = "công chức địa chính";
	f->resp.managing_agency = "HC-UBND";
	f->resp.description = "nhận tiền để hợp thức hóa đất lấn chiếm";
	f->people[0].identity_protection = 1;
}

static void b_anonymous(struct fx *f)
{
	b_denunciation(f);
	f->pet.channel = DONTHU__V1__CHANNEL__CHANNEL_POST;
	f->pet.anonymous = 1;
	f->pet.anonymous_verifiable = 1;
	f->pet.n_petitioners = 0;
	f->pet.signed_ = 0;
}

static void b_recommendation(struct fx *f)
{
	b_complaint(f);
	f->pet.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_RECOMMENDATION;
	f->pet.channel = DONTHU__V1__CHANNEL__CHANNEL_PORTAL;
	f->pet.complaint_subject = 0;
	f->pet.round = 0;
	f->pet.respondent = NULL;
	f->pet.summary = "Đề nghị lắp đèn chiếu sáng đường Núi Thành";
}

static void b_feedback(struct fx *f)
{
	b_recommendation(f);
	f->pet.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK;
	f->pet.channel = DONTHU__V1__CHANNEL__CHANNEL_HOTLINE;
	f->pet.anonymous = 1;
	f->pet.n_petitioners = 0;
	f->pet.summary = "Phản ánh rác thải tại kiệt 45";
}

static void b_mixed(struct fx *f)
{
	b_complaint(f);
	f->pet.kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_MIXED;
	f->pet.channel = DONTHU__V1__CHANNEL__CHANNEL_EMAIL;
}

static void b_forwarded(struct fx *f)
{
	b_denunciation(f);
	f->pet.channel = DONTHU__V1__CHANNEL__CHANNEL_FORWARDED;
	f->pet.forwarded_by = "Đoàn đại biểu Quốc hội thành phố Đà Nẵng";
}

static void b_delegation(struct fx *f)
{
	b_complaint(f);
	f->pet.n_petitioners = 3;
	f->pet.signer_count = 12;
	f->pet.delegation_size = 12;
	f->people[1].full_name = "Lê Thị Hoa";
	f->people[1].id_kind = DONTHU__V1__ID_KIND__ID_KIND_PASSPORT;
	f->people[1].id_number = "C1234567";
	f->people[2].full_name = "Phạm Văn Cường";
	f->people[2].id_kind = DONTHU__V1__ID_KIND__ID_KIND_NONE;
	f->people[2].id_number = "";
	f->people[2].address = "";
}

static void b_action(struct fx *f)
{
	Donthu__V1__CaseAction *a = &f->act;

	donthu__v1__case_action__init(a);
	donthu__v1__accept__init(&f->accept);
	donthu__v1__refuse__init(&f->refuse);
	donthu__v1__guide__init(&f->guide);
	donthu__v1__forward__init(&f->forward);
	donthu__v1__return__init(&f->give_back);
	donthu__v1__file_away__init(&f->file_away);
	donthu__v1__extend__init(&f->extend);
	donthu__v1__suspend__init(&f->suspend);
	donthu__v1__resume__init(&f->resume);
	donthu__v1__withdraw__init(&f->withdraw);
	donthu__v1__terminate__init(&f->terminate);
	donthu__v1__decide__init(&f->decide);
	donthu__v1__enforcement__init(&f->enforcement);
	donthu__v1__recomplaint__init(&f->recomplaint);
	donthu__v1__reassign__init(&f->reassign);
	donthu__v1__urge__init(&f->urge);
	donthu__v1__close__init(&f->close);

	f->req.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_ACTION;
	f->req.action = a;
	a->case_number = "DN-TTR-2026-000001";
	a->effective_at_ms = received_ms + CM_DAY_MS;
	a->officer = "cb-017";
	a->document_number = "12/TB-TTR";
	a->note = "Đã kiểm tra hồ sơ";

	f->accept.complexity = DONTHU__V1__COMPLEXITY__COMPLEXITY_NORMAL;
	f->refuse.reason = DONTHU__V1__REFUSAL_REASON__REFUSAL_REASON_TIME_LIMIT_EXPIRED;
	f->guide.to_agency = "DN-UBND";
	f->forward.to_agency = "DN-SNNMT";
	f->give_back.to_body = "Báo Đà Nẵng";
	f->file_away.reason = DONTHU__V1__FILE_REASON__FILE_REASON_DUPLICATE;
	f->extend.days = 30;
	f->extend.reason = "Vụ việc phức tạp";
	f->suspend.reason = "Chờ kết quả giám định";
	f->withdraw.detail = "Rút toàn bộ";
	f->terminate.reason = "Người khiếu nại rút đơn";
	f->decide.outcome = DONTHU__V1__DECISION_OUTCOME__DECISION_OUTCOME_PARTLY_RIGHT;
	f->decide.effect = DONTHU__V1__DECISION_EFFECT__DECISION_EFFECT_AMENDED;
	f->decide.money_to_recover_vnd = 150000000;
	f->decide.land_to_return_m2 = 12.5;
	f->enforcement.money_recovered_vnd = 150000000;
	f->enforcement.completed = 1;
	f->reassign.to_agency = "DN-TTR";
	f->reassign.to_officer = "cb-021";
	f->reassign.reason = "Cán bộ nghỉ phép";
	f->urge.to_agency = "HC-UBND";

	a->action_case = DONTHU__V1__CASE_ACTION__ACTION_ACCEPT;
	a->accept = &f->accept;
}

static void set_action(struct fx *f, Donthu__V1__CaseAction__ActionCase c)
{
	Donthu__V1__CaseAction *a = &f->act;

	a->action_case = c;
	switch (c) {
	case DONTHU__V1__CASE_ACTION__ACTION_ACCEPT: a->accept = &f->accept; break;
	case DONTHU__V1__CASE_ACTION__ACTION_REFUSE: a->refuse = &f->refuse; break;
	case DONTHU__V1__CASE_ACTION__ACTION_GUIDE: a->guide = &f->guide; break;
	case DONTHU__V1__CASE_ACTION__ACTION_FORWARD: a->forward = &f->forward; break;
	case DONTHU__V1__CASE_ACTION__ACTION_GIVE_BACK: a->give_back = &f->give_back; break;
	case DONTHU__V1__CASE_ACTION__ACTION_FILE_AWAY: a->file_away = &f->file_away; break;
	case DONTHU__V1__CASE_ACTION__ACTION_EXTEND: a->extend = &f->extend; break;
	case DONTHU__V1__CASE_ACTION__ACTION_SUSPEND: a->suspend = &f->suspend; break;
	case DONTHU__V1__CASE_ACTION__ACTION_RESUME: a->resume = &f->resume; break;
	case DONTHU__V1__CASE_ACTION__ACTION_WITHDRAW: a->withdraw = &f->withdraw; break;
	case DONTHU__V1__CASE_ACTION__ACTION_TERMINATE: a->terminate = &f->terminate; break;
	case DONTHU__V1__CASE_ACTION__ACTION_DECIDE: a->decide = &f->decide; break;
	case DONTHU__V1__CASE_ACTION__ACTION_ENFORCEMENT: a->enforcement = &f->enforcement; break;
	case DONTHU__V1__CASE_ACTION__ACTION_RECOMPLAINT: a->recomplaint = &f->recomplaint; break;
	case DONTHU__V1__CASE_ACTION__ACTION_REASSIGN: a->reassign = &f->reassign; break;
	case DONTHU__V1__CASE_ACTION__ACTION_URGE: a->urge = &f->urge; break;
	case DONTHU__V1__CASE_ACTION__ACTION_CLOSE: a->close = &f->close; break;
	default: a->accept = NULL; break;
	}
}

#define ACTION_BASE(name, CASE)                                              \
	static void b_##name(struct fx *f)                                   \
	{                                                                    \
		b_action(f);                                                 \
		set_action(f, DONTHU__V1__CASE_ACTION__ACTION_##CASE);       \
	}
ACTION_BASE(accept, ACCEPT)
ACTION_BASE(refuse, REFUSE)
ACTION_BASE(guide, GUIDE)
ACTION_BASE(forward, FORWARD)
ACTION_BASE(give_back, GIVE_BACK)
ACTION_BASE(file_away, FILE_AWAY)
ACTION_BASE(extend, EXTEND)
ACTION_BASE(suspend, SUSPEND)
ACTION_BASE(resume, RESUME)
ACTION_BASE(withdraw, WITHDRAW)
ACTION_BASE(terminate, TERMINATE)
ACTION_BASE(decide, DECIDE)
ACTION_BASE(enforcement, ENFORCEMENT)
ACTION_BASE(recomplaint, RECOMPLAINT)
ACTION_BASE(reassign, REASSIGN)
ACTION_BASE(urge, URGE)
ACTION_BASE(close, CLOSE)

static void b_reception(struct fx *f)
{
	Donthu__V1__ReceptionRecord *r = &f->rec;

	donthu__v1__reception_record__init(r);
	f->req.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_RECEPTION;
	f->req.reception = r;
	r->agency = "DN-TTR";
	r->received_at_ms = received_ms;
	r->n_citizens = 1;
	r->citizens = f->ppeople;
	r->summary = "Công dân trình bày việc thu hồi đất";
	r->kind = DONTHU__V1__PETITION_KIND__PETITION_KIND_COMPLAINT;
	r->citizen_count = 1;
	r->within_competence = 1;
	r->reception_kind = DONTHU__V1__RECEPTION_KIND__RECEPTION_KIND_REGULAR;
	r->mode = DONTHU__V1__RECEPTION_MODE__RECEPTION_MODE_IN_PERSON;
	r->location_unit = "20257";
}

static void b_reception_head(struct fx *f)
{
	b_reception(f);
	f->rec.reception_kind = DONTHU__V1__RECEPTION_KIND__RECEPTION_KIND_PERIODIC;
	f->rec.head_role = DONTHU__V1__HEAD_ROLE__HEAD_ROLE_AGENCY_HEAD;
	f->rec.mode = DONTHU__V1__RECEPTION_MODE__RECEPTION_MODE_ONLINE;
	f->rec.delegation = 1;
	f->rec.citizen_count = 8;
	f->rec.n_citizens = 2;
	f->people[1].address = "";
	f->rec.accepted_by_agency = "DN-TTR";
	f->rec.case_number = "DN-TTR-2026-000042";
}

static void b_refused_reception(struct fx *f)
{
	b_reception(f);
	f->rec.refused = 1;
	f->rec.refusal_reason = "Say rượu (Luật TCD Điều 9)";
}

static void set_dates(struct fx *f, size_t n, const char *const *d)
{
	for (size_t i = 0; i < n; i++) {
		snprintf(f->datebuf[i], sizeof(f->datebuf[i]), "%s", d[i]);
		f->dates[i] = f->datebuf[i];
	}
	f->sch.n_planned_dates = n;
	f->sch.planned_dates = f->dates;
}

static void b_schedule(struct fx *f)
{
	static const char *const d[] = { "2026-09-08", "2026-09-22" };

	donthu__v1__reception_schedule__init(&f->sch);
	f->req.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_SCHEDULE;
	f->req.schedule = &f->sch;
	f->sch.agency = "HC-UBND";
	f->sch.head_role = DONTHU__V1__HEAD_ROLE__HEAD_ROLE_COMMUNE_CHAIRMAN;
	f->sch.month = "2026-09";
	f->sch.location = "Trụ sở UBND phường Hòa Cường";
	set_dates(f, 2, d);
}

static void b_conclusion(struct fx *f)
{
	donthu__v1__reception_conclusion__init(&f->con);
	donthu__v1__conclusion_task__init(&f->task);
	f->req.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM_CONCLUSION;
	f->req.conclusion = &f->con;
	f->con.agency = "DN-UBND";
	f->con.reception_id = "DN-UBND-2026-R000003";
	f->con.case_number = "DN-UBND-2026-000002";
	f->con.conclusion = "Giao Thanh tra thành phố kiểm tra,\nbáo cáo trước ngày 30/8.";
	f->con.concluded_at_ms = received_ms;
	f->con.n_tasks = 1;
	f->con.tasks = f->ptask;
	f->task.assigned_agency = "DN-TTR";
	f->task.task = "Kiểm tra và báo cáo";
	f->task.due_date = "2026-08-30";
}

/* ---- running one request ------------------------------------------------- */

static Donthu__V1__SubmitRequest *roundtrip(const Donthu__V1__SubmitRequest *in)
{
	size_t len = donthu__v1__submit_request__get_packed_size(in);
	uint8_t *buf = malloc(len ? len : 1);
	Donthu__V1__SubmitRequest *out;

	assert_non_null(buf);
	assert_int_equal(donthu__v1__submit_request__pack(in, buf), len);
	out = donthu__v1__submit_request__unpack(NULL, len, buf);
	free(buf);
	assert_non_null(out);
	return out;
}

static int validate(struct fx *f, struct intake_verr *err)
{
	Donthu__V1__SubmitRequest *r = roundtrip(&f->req);
	struct intake_vctx ctx;
	int rc;

	intake_vctx_init(&ctx, reg, now_ms);
	rc = intake_validate_submit(r, &ctx, err);
	donthu__v1__submit_request__free_unpacked(r, NULL);
	return rc;
}

/* ---- valid requests ------------------------------------------------------ */

static void test_valid(void **state)
{
	static const struct {
		const char *what;
		void (*base)(struct fx *);
	} cases[] = {
		{ "complaint, first round", b_complaint },
		{ "complaint, second round", b_complaint2 },
		{ "denunciation", b_denunciation },
		{ "anonymous denunciation", b_anonymous },
		{ "recommendation", b_recommendation },
		{ "anonymous feedback", b_feedback },
		{ "mixed", b_mixed },
		{ "forwarded", b_forwarded },
		{ "delegation", b_delegation },
		{ "accept", b_accept },
		{ "refuse", b_refuse },
		{ "guide", b_guide },
		{ "forward", b_forward },
		{ "give_back", b_give_back },
		{ "file_away", b_file_away },
		{ "extend", b_extend },
		{ "suspend", b_suspend },
		{ "resume", b_resume },
		{ "withdraw", b_withdraw },
		{ "terminate", b_terminate },
		{ "decide", b_decide },
		{ "enforcement", b_enforcement },
		{ "recomplaint", b_recomplaint },
		{ "reassign", b_reassign },
		{ "urge", b_urge },
		{ "close", b_close },
		{ "reception", b_reception },
		{ "periodic online reception by the head", b_reception_head },
		{ "refused reception", b_refused_reception },
		{ "schedule", b_schedule },
		{ "conclusion", b_conclusion },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_LEN(cases); i++) {
		struct fx *f = fx_new();
		struct intake_verr err;
		int rc;

		cases[i].base(f);
		rc = validate(f, &err);
		if (rc != 0)
			fail_msg("%s: %s %s: %s", cases[i].what, err.code, err.field, err.message);
		free(f);
	}
}

/* Edges that must still pass: each sits just inside a limit. */
#define EDGE(name, base, ...)                  \
	static void name(struct fx *f)         \
	{                                      \
		base(f);                       \
		__VA_ARGS__;                   \
	}
EDGE(e_skew, b_complaint, f->pet.received_at_ms = now_ms + INTAKE_SKEW_MS_DEFAULT)
EDGE(e_floor, b_complaint, f->pet.received_at_ms = INTAKE_FLOOR_MS_DEFAULT;
     f->pet.receiving_agency = "DN-UBND"; f->pet.petition_date = ""; f->resp.decision_date = "";
     f->pet.location_unit = "OLD-HCB"; f->resp.issuing_agency = "DN-UBND")
EDGE(e_summary_cap, b_complaint, f->pet.summary = rep(f, 's', INTAKE_MAX_SUMMARY))
EDGE(e_text_cap, b_recommendation, f->pet.text = rep(f, 't', INTAKE_MAX_TEXT))
EDGE(e_old_unit, b_complaint, f->pet.location_unit = "OLD-HCB")
EDGE(e_old_issuer, b_complaint, f->resp.issuing_agency = "DN-STNMT")
EDGE(e_signers, b_complaint, f->pet.signer_count = INTAKE_MAX_SIGNERS)
EDGE(e_max_people, b_complaint, f->pet.n_petitioners = INTAKE_MAX_PETITIONERS;
     f->pet.signer_count = INTAKE_MAX_PETITIONERS)
EDGE(e_max_att, b_complaint, f->pet.n_attachments = INTAKE_MAX_ATTACHMENTS)
EDGE(e_att_2g, b_complaint, f->att[0].size = INTAKE_MAX_ATTACHMENT_BYTES;
     f->att[0].media_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
EDGE(e_passport, b_complaint, f->people[0].id_kind = DONTHU__V1__ID_KIND__ID_KIND_PASSPORT;
     f->people[0].id_number = "B123456")
EDGE(e_personal, b_complaint, f->people[0].id_kind = DONTHU__V1__ID_KIND__ID_KIND_PERSONAL_NUMBER;
     f->people[0].id_number = "001203004005")
EDGE(e_other_id, b_complaint, f->people[0].id_kind = DONTHU__V1__ID_KIND__ID_KIND_OTHER;
     f->people[0].id_number = "CMND 201234567")
EDGE(e_no_id, b_complaint, f->people[0].id_kind = 0; f->people[0].id_number = "")
EDGE(e_extend90, b_extend, f->extend.days = INTAKE_MAX_EXTEND_DAYS)
EDGE(e_guide_detail, b_guide, f->guide.to_agency = ""; f->guide.detail = "Bổ sung bản sao quyết định")
EDGE(e_withdraw_partial, b_withdraw, f->withdraw.partial = 1)
EDGE(e_long_case_number, b_accept, f->act.case_number = "HC-UBND-2026-1234567")
EDGE(e_schedule_31, b_schedule,
     static const char *const d31[] = { "2026-10-01" };
     f->sch.month = "2026-10"; set_dates(f, 1, d31);
     for (size_t i = 0; i < 31; i++) {
	     snprintf(f->datebuf[i], sizeof(f->datebuf[i]), "2026-10-%02zu", i + 1);
	     f->dates[i] = f->datebuf[i];
     } f->sch.n_planned_dates = 31)
EDGE(e_unscheduled_head, b_reception, f->rec.reception_kind =
	     DONTHU__V1__RECEPTION_KIND__RECEPTION_KIND_UNSCHEDULED;
     f->rec.head_role = DONTHU__V1__HEAD_ROLE__HEAD_ROLE_PROVINCIAL_CHAIRMAN)
EDGE(e_no_tasks, b_conclusion, f->con.n_tasks = 0)

static void test_valid_edges(void **state)
{
	static const struct {
		const char *what;
		void (*build)(struct fx *);
	} cases[] = {
		{ "received at now + skew", e_skew },
		{ "received at the floor", e_floor },
		{ "summary at its cap", e_summary_cap },
		{ "text at its cap", e_text_cap },
		{ "a unit merged away", e_old_unit },
		{ "a decision by an agency since merged away", e_old_issuer },
		{ "signer_count at its cap", e_signers },
		{ "100 petitioners", e_max_people },
		{ "50 attachments", e_max_att },
		{ "a 2 GiB attachment", e_att_2g },
		{ "passport", e_passport },
		{ "personal number", e_personal },
		{ "other identity paper", e_other_id },
		{ "no identity number", e_no_id },
		{ "extend by 90 days", e_extend90 },
		{ "guidance without an agency", e_guide_detail },
		{ "partial withdrawal", e_withdraw_partial },
		{ "serial over six digits", e_long_case_number },
		{ "31 planned dates", e_schedule_31 },
		{ "unscheduled reception by the head", e_unscheduled_head },
		{ "conclusion without tasks", e_no_tasks },
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_LEN(cases); i++) {
		struct fx *f = fx_new();
		struct intake_verr err;
		int rc;

		cases[i].build(f);
		rc = validate(f, &err);
		if (rc != 0)
			fail_msg("%s: %s %s: %s", cases[i].what, err.code, err.field, err.message);
		free(f);
	}
}

/* ---- bad inputs ---------------------------------------------------------- */

#define MUT(name, ...)                         \
	static void name(struct fx *f)         \
	{                                      \
		__VA_ARGS__;                   \
	}

#define P0 f->people[0]

/* idempotency key and item */
MUT(m_no_key, f->req.key = NULL)
MUT(m_no_source_system, f->key.source_system = "")
MUT(m_no_source_id, f->key.source_id = "")
MUT(m_source_system_space, f->key.source_system = "portal danang")
MUT(m_source_system_long, f->key.source_system = rep(f, 'p', INTAKE_MAX_SOURCE_SYSTEM + 1))
MUT(m_source_id_tab, f->key.source_id = "abc\tdef")
MUT(m_source_id_long, f->key.source_id = rep(f, '1', INTAKE_MAX_SOURCE_ID + 1))
MUT(m_no_item, f->req.item_case = DONTHU__V1__SUBMIT_REQUEST__ITEM__NOT_SET)
/* text */
MUT(m_summary_ff, f->pet.summary = "Khiếu nại \xff")
MUT(m_name_overlong, P0.full_name = "Nguy\xc0\xaf")
MUT(m_desc_surrogate, f->resp.description = "mô tả \xed\xa0\x80")
MUT(m_summary_truncated, f->pet.summary = "Khiếu nại \xe1\xba")
MUT(m_name_newline, P0.full_name = "Nguyễn\nVăn An")
MUT(m_summary_escape, f->pet.summary = "Khiếu nại \x1b[31m")
MUT(m_summary_c1, f->pet.summary = "Khiếu nại \xc2\x85")
MUT(m_summary_long, f->pet.summary = rep(f, 's', INTAKE_MAX_SUMMARY + 1))
MUT(m_text_long, f->pet.text = rep(f, 't', INTAKE_MAX_TEXT + 1))
MUT(m_name_long, P0.full_name = rep(f, 'n', INTAKE_MAX_NAME + 1))
MUT(m_address_long, P0.address = rep(f, 'a', INTAKE_MAX_ADDRESS + 1))
MUT(m_agency_long, f->pet.receiving_agency = rep(f, 'A', INTAKE_MAX_CODE + 1))
MUT(m_uri_long, f->att[0].uri = rep(f, 'u', INTAKE_MAX_URI + 1))
MUT(m_also_bad, f->pet.n_also_sent_to = 2; f->also[1] = "\xfe")
MUT(m_phone_long, P0.phone = rep(f, '1', INTAKE_MAX_PHONE + 1))
MUT(m_email_long, P0.email = rep(f, 'e', INTAKE_MAX_EMAIL + 1))
/* enums */
MUT(m_channel_99, f->pet.channel = 99)
MUT(m_kind_42, f->pet.kind = 42)
MUT(m_id_kind_9, P0.id_kind = 9)
MUT(m_subject_neg, f->pet.complaint_subject = -1)
MUT(m_outcome_bad, f->prior.outcome = 7)
/* petition basics */
MUT(m_no_channel, f->pet.channel = 0)
MUT(m_no_kind, f->pet.kind = 0)
MUT(m_no_received, f->pet.received_at_ms = 0)
MUT(m_future, f->pet.received_at_ms = now_ms + INTAKE_SKEW_MS_DEFAULT + 1)
MUT(m_too_old, f->pet.received_at_ms = INTAKE_FLOOR_MS_DEFAULT - 1)
MUT(m_negative_time, f->pet.received_at_ms = -5)
MUT(m_no_agency, f->pet.receiving_agency = "")
MUT(m_unknown_agency, f->pet.receiving_agency = "XX-NONE")
MUT(m_retired_agency, f->pet.receiving_agency = "DN-STNMT")
MUT(m_not_yet_agency, f->pet.receiving_agency = "HC-UBND";
    f->pet.received_at_ms = cm_day_start_ms(cm_day_from_ymd(2025, 6, 30)); f->pet.petition_date = "";
    f->resp.decision_date = "")
MUT(m_unknown_unit, f->pet.location_unit = "99999")
MUT(m_unknown_field, f->pet.field = "bogus")
MUT(m_zero_signers, f->pet.signer_count = 0)
MUT(m_many_signers, f->pet.signer_count = INTAKE_MAX_SIGNERS + 1)
MUT(m_fewer_signers, f->pet.n_petitioners = 2)
MUT(m_too_many_people, f->pet.n_petitioners = INTAKE_MAX_PETITIONERS + 1;
    f->pet.signer_count = 1000)
MUT(m_no_petitioners, f->pet.n_petitioners = 0)
MUT(m_no_address, P0.address = "")
MUT(m_no_name, P0.full_name = "")
MUT(m_anonymous_complaint, f->pet.anonymous = 1; f->pet.n_petitioners = 0)
MUT(m_anonymous_named, f->pet.n_petitioners = 1)
MUT(m_anonymous_phone, f->pet.n_petitioners = 1; P0.full_name = ""; P0.id_kind = 0;
    P0.id_number = ""; P0.address = "")
MUT(m_verifiable_named, f->pet.anonymous_verifiable = 1)
/* identity */
MUT(m_cccd_short, P0.id_number = "04809000123")
MUT(m_cccd_letters, P0.id_number = "0480900012AB")
MUT(m_passport_lower, P0.id_kind = DONTHU__V1__ID_KIND__ID_KIND_PASSPORT; P0.id_number = "b1234567")
MUT(m_passport_long, P0.id_kind = DONTHU__V1__ID_KIND__ID_KIND_PASSPORT; P0.id_number = "B12345678901")
MUT(m_personal_13, P0.id_kind = DONTHU__V1__ID_KIND__ID_KIND_PERSONAL_NUMBER;
    P0.id_number = "0012030040051")
MUT(m_other_blank, P0.id_kind = DONTHU__V1__ID_KIND__ID_KIND_OTHER; P0.id_number = "   ")
MUT(m_cccd_missing, P0.id_number = "")
MUT(m_kind_missing, P0.id_kind = 0)
MUT(m_none_with_number, P0.id_kind = DONTHU__V1__ID_KIND__ID_KIND_NONE)
MUT(m_phone_letters, P0.phone = "0905-ABC")
MUT(m_phone_no_digits, P0.phone = "()")
MUT(m_email_two_at, P0.email = "an@b@example.vn")
MUT(m_email_no_at, P0.email = "an.example.vn")
/* complaint */
MUT(m_no_subject, f->pet.complaint_subject = 0)
MUT(m_no_round, f->pet.round = 0)
MUT(m_no_respondent, f->pet.respondent = NULL)
MUT(m_no_issuer, f->resp.issuing_agency = "")
MUT(m_unknown_issuer, f->resp.issuing_agency = "XX-NONE")
MUT(m_no_decision, f->resp.decision_number = ""; f->resp.description = "")
MUT(m_decision_future, f->resp.decision_date = "2026-07-31")
MUT(m_decision_bad_date, f->resp.decision_date = "2026-02-29")
MUT(m_no_summary, f->pet.summary = "")
MUT(m_second_no_prior, f->pet.prior_decision = NULL)
MUT(m_prior_bad_date, f->prior.date = "2026-02-30")
MUT(m_prior_no_number, f->prior.number = "")
MUT(m_prior_unknown_agency, f->prior.issuing_agency = "NOPE")
/* denunciation, other kinds */
MUT(m_den_no_respondent, f->pet.respondent = NULL)
MUT(m_den_no_name, f->resp.name = ""; f->resp.description = "")
MUT(m_den_round, f->pet.round = DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_FIRST)
MUT(m_den_subject, f->pet.complaint_subject =
	DONTHU__V1__COMPLAINT_SUBJECT__COMPLAINT_SUBJECT_ADMINISTRATIVE_ACT)
MUT(m_rec_prior, f->pet.prior_decision = &f->prior; f->prior.number = "1")
MUT(m_den_managing_unknown, f->resp.managing_agency = "XX")
/* channel and delegation */
MUT(m_forwarded_no_body, f->pet.channel = DONTHU__V1__CHANNEL__CHANNEL_FORWARDED)
MUT(m_delegation_post, f->pet.channel = DONTHU__V1__CHANNEL__CHANNEL_POST)
MUT(m_delegation_one, f->pet.delegation_size = 1)
MUT(m_delegation_huge, f->pet.delegation_size = INTAKE_MAX_DELEGATION + 1)
/* attachments, dates, lists */
MUT(m_sha_short, f->att[0].sha256.len = 31)
MUT(m_sha_missing, f->att[0].sha256.len = 0)
MUT(m_size_zero, f->att[0].size = 0)
MUT(m_size_huge, f->att[0].size = INTAKE_MAX_ATTACHMENT_BYTES + 1)
MUT(m_media_plain, f->att[0].media_type = "pdf")
MUT(m_media_params, f->att[0].media_type = "text/plain; charset=utf-8")
MUT(m_media_second_bad, f->pet.n_attachments = 2; f->att[1].media_type = "image/")
MUT(m_too_many_att, f->pet.n_attachments = INTAKE_MAX_ATTACHMENTS + 1)
MUT(m_petition_date_bad, f->pet.petition_date = "2026-13-01")
MUT(m_petition_date_short, f->pet.petition_date = "2026-7-28")
MUT(m_petition_date_future, f->pet.petition_date = "2026-07-31")
MUT(m_too_many_also, f->pet.n_also_sent_to = INTAKE_MAX_ALSO_SENT_TO + 1)
/* case actions */
MUT(m_no_case_number, f->act.case_number = "")
MUT(m_case_number_shape, f->act.case_number = "DN-TTR-26-000001")
MUT(m_case_number_serial, f->act.case_number = "DN-TTR-2026-12345")
MUT(m_case_number_no_agency, f->act.case_number = "-2026-000001")
MUT(m_no_action, set_action(f, DONTHU__V1__CASE_ACTION__ACTION__NOT_SET))
MUT(m_action_future, f->act.effective_at_ms = now_ms + 3600 * 1000)
MUT(m_action_no_time, f->act.effective_at_ms = 0)
MUT(m_action_old, f->act.effective_at_ms = 1000)
MUT(m_accept_no_complexity, f->accept.complexity = 0)
MUT(m_accept_bad_handler, f->accept.handling_agency = "DN-STNMT")
MUT(m_refuse_no_reason, f->refuse.reason = 0)
MUT(m_refuse_other_no_detail, f->refuse.reason = DONTHU__V1__REFUSAL_REASON__REFUSAL_REASON_OTHER)
MUT(m_refuse_reason_99, f->refuse.reason = 99)
MUT(m_guide_nothing, f->guide.to_agency = "")
MUT(m_guide_unknown, f->guide.to_agency = "XX")
MUT(m_forward_none, f->forward.to_agency = "")
MUT(m_forward_unknown, f->forward.to_agency = "XX-NONE")
MUT(m_forward_retired, f->forward.to_agency = "DN-STNMT")
MUT(m_give_back_none, f->give_back.to_body = "")
MUT(m_file_no_reason, f->file_away.reason = 0)
MUT(m_file_other_no_detail, f->file_away.reason = DONTHU__V1__FILE_REASON__FILE_REASON_OTHER)
MUT(m_extend_0, f->extend.days = 0)
MUT(m_extend_91, f->extend.days = INTAKE_MAX_EXTEND_DAYS + 1)
MUT(m_extend_no_reason, f->extend.reason = "")
MUT(m_extend_complexity_bad, f->extend.complexity = 4)
MUT(m_suspend_no_reason, f->suspend.reason = "")
MUT(m_terminate_no_reason, f->terminate.reason = "")
MUT(m_decide_no_outcome, f->decide.outcome = 0)
MUT(m_decide_effect_bad, f->decide.effect = 17)
MUT(m_decide_negative, f->decide.money_to_return_vnd = -1)
MUT(m_decide_nan, f->decide.land_to_recover_m2 = NAN)
MUT(m_decide_inf, f->decide.land_to_return_m2 = INFINITY)
MUT(m_enforce_negative, f->enforcement.money_returned_vnd = -100)
MUT(m_reassign_no_reason, f->reassign.reason = "")
MUT(m_reassign_no_agency, f->reassign.to_agency = "")
MUT(m_urge_unknown, f->urge.to_agency = "NOPE")
MUT(m_note_bad, f->act.note = "ghi \xc3")
MUT(m_officer_ctl, f->act.officer = "cb\x7f")
/* reception */
MUT(m_rec_no_agency, f->rec.agency = "")
MUT(m_rec_unknown_agency, f->rec.agency = "DN-STNMT")
MUT(m_rec_no_time, f->rec.received_at_ms = 0)
MUT(m_rec_future, f->rec.received_at_ms = now_ms + 24 * 3600 * 1000LL)
MUT(m_rec_zero, f->rec.citizen_count = 0)
MUT(m_rec_no_citizens, f->rec.n_citizens = 0)
MUT(m_rec_unnamed, f->people[0].full_name = "")
MUT(m_rec_count_low, f->rec.n_citizens = 2)
MUT(m_rec_no_address, f->people[0].address = "")
MUT(m_rec_bad_id, f->people[0].id_number = "12")
MUT(m_rec_refused_no_reason, f->rec.refused = 1)
MUT(m_rec_reason_not_refused, f->rec.refusal_reason = "Say rượu")
MUT(m_rec_head_regular, f->rec.head_role = DONTHU__V1__HEAD_ROLE__HEAD_ROLE_AGENCY_HEAD)
MUT(m_rec_periodic_no_head, f->rec.reception_kind =
	DONTHU__V1__RECEPTION_KIND__RECEPTION_KIND_PERIODIC)
MUT(m_rec_no_mode, f->rec.mode = 0)
MUT(m_rec_online_early, f->rec.mode = DONTHU__V1__RECEPTION_MODE__RECEPTION_MODE_ONLINE;
    f->rec.received_at_ms = cm_day_start_ms(cm_day_from_ymd(2026, 6, 30)))
MUT(m_rec_no_kind, f->rec.kind = 0)
MUT(m_rec_no_reception_kind, f->rec.reception_kind = 0)
MUT(m_rec_no_summary, f->rec.summary = "")
MUT(m_rec_small_delegation, f->rec.delegation = 1; f->rec.citizen_count = 4)
MUT(m_rec_guided_unknown, f->rec.guided_to_agency = "XX")
MUT(m_rec_unit_unknown, f->rec.location_unit = "00000")
MUT(m_rec_case_shape, f->rec.case_number = "not a case")
MUT(m_rec_mode_bad, f->rec.mode = 3)
MUT(m_rec_too_many, f->rec.n_citizens = INTAKE_MAX_CITIZENS + 1; f->rec.citizen_count = 500)
/* schedule */
MUT(m_sch_no_agency, f->sch.agency = "")
MUT(m_sch_unknown_agency, f->sch.agency = "XX")
MUT(m_sch_no_head, f->sch.head_role = 0)
MUT(m_sch_bad_month, f->sch.month = "2026-13")
MUT(m_sch_month_day, f->sch.month = "2026-09-01")
MUT(m_sch_outside, f->datebuf[1][6] = '8')
MUT(m_sch_dup, memcpy(f->datebuf[1], f->datebuf[0], 11))
MUT(m_sch_bad_date, memcpy(f->datebuf[1], "2026-09-31", 11))
MUT(m_sch_none, f->sch.n_planned_dates = 0)
MUT(m_sch_too_many, f->sch.n_planned_dates = INTAKE_MAX_PLANNED_DATES + 1;
    for (size_t i = 0; i <= INTAKE_MAX_PLANNED_DATES; i++) f->dates[i] = f->datebuf[0])
MUT(m_sch_old, f->sch.month = "1999-12"; memcpy(f->datebuf[0], "1999-12-08", 11);
    memcpy(f->datebuf[1], "1999-12-22", 11))
MUT(m_sch_inactive, f->sch.month = "2025-06"; memcpy(f->datebuf[0], "2025-06-08", 11);
    memcpy(f->datebuf[1], "2025-06-22", 11))
/* conclusion */
MUT(m_con_no_agency, f->con.agency = "")
MUT(m_con_no_reception, f->con.reception_id = "")
MUT(m_con_no_text, f->con.conclusion = "")
MUT(m_con_no_time, f->con.concluded_at_ms = 0)
MUT(m_con_future, f->con.concluded_at_ms = now_ms + 10 * 60 * 1000)
MUT(m_con_task_unknown, f->task.assigned_agency = "XX-NONE")
MUT(m_con_task_no_agency, f->task.assigned_agency = "")
MUT(m_con_task_bad_due, f->task.due_date = "tomorrow")
MUT(m_con_task_due_past, f->task.due_date = "2026-07-01")
MUT(m_con_task_no_text, f->task.task = "")
MUT(m_con_case_shape, f->con.case_number = "DN-UBND-2026")
MUT(m_con_too_many, f->con.n_tasks = INTAKE_MAX_TASKS + 1)

struct bad {
	const char *what;
	void (*base)(struct fx *);
	void (*mut)(struct fx *);
	const char *code;
	const char *field;
};

static const struct bad bad_cases[] = {
	{ "no key", b_complaint, m_no_key, "missing_key", "key" },
	{ "empty source_system", b_complaint, m_no_source_system, "missing_key", "key.source_system" },
	{ "empty source_id", b_complaint, m_no_source_id, "missing_key", "key.source_id" },
	{ "space in source_system", b_complaint, m_source_system_space, "invalid_value",
	  "key.source_system" },
	{ "source_system too long", b_complaint, m_source_system_long, "too_long", "key.source_system" },
	{ "tab in source_id", b_complaint, m_source_id_tab, "control_character", "key.source_id" },
	{ "source_id too long", b_complaint, m_source_id_long, "too_long", "key.source_id" },
	{ "no item", b_complaint, m_no_item, "missing_field", "item" },

	{ "0xFF in summary", b_complaint, m_summary_ff, "invalid_utf8", "petition.summary" },
	{ "overlong in a name", b_complaint, m_name_overlong, "invalid_utf8",
	  "petition.petitioners[0].full_name" },
	{ "surrogate in a description", b_complaint, m_desc_surrogate, "invalid_utf8",
	  "petition.respondent.description" },
	{ "truncated sequence", b_complaint, m_summary_truncated, "invalid_utf8", "petition.summary" },
	{ "newline in a name", b_complaint, m_name_newline, "control_character",
	  "petition.petitioners[0].full_name" },
	{ "escape in summary", b_complaint, m_summary_escape, "control_character", "petition.summary" },
	{ "C1 control in summary", b_complaint, m_summary_c1, "control_character", "petition.summary" },
	{ "summary over cap", b_complaint, m_summary_long, "too_long", "petition.summary" },
	{ "text over cap", b_complaint, m_text_long, "too_long", "petition.text" },
	{ "name over cap", b_complaint, m_name_long, "too_long", "petition.petitioners[0].full_name" },
	{ "address over cap", b_complaint, m_address_long, "too_long",
	  "petition.petitioners[0].address" },
	{ "agency code over cap", b_complaint, m_agency_long, "too_long", "petition.receiving_agency" },
	{ "uri over cap", b_complaint, m_uri_long, "too_long", "petition.attachments[0].uri" },
	{ "bad UTF-8 in a list", b_complaint, m_also_bad, "invalid_utf8", "petition.also_sent_to[1]" },
	{ "phone over cap", b_complaint, m_phone_long, "too_long", "petition.petitioners[0].phone" },
	{ "email over cap", b_complaint, m_email_long, "too_long", "petition.petitioners[0].email" },

	{ "channel 99", b_complaint, m_channel_99, "invalid_enum", "petition.channel" },
	{ "kind 42", b_complaint, m_kind_42, "invalid_enum", "petition.kind" },
	{ "id_kind 9", b_complaint, m_id_kind_9, "invalid_enum", "petition.petitioners[0].id_kind" },
	{ "negative subject", b_complaint, m_subject_neg, "invalid_enum", "petition.complaint_subject" },
	{ "prior outcome 7", b_complaint2, m_outcome_bad, "invalid_enum",
	  "petition.prior_decision.outcome" },

	{ "no channel", b_complaint, m_no_channel, "missing_field", "petition.channel" },
	{ "no kind", b_complaint, m_no_kind, "missing_field", "petition.kind" },
	{ "no received_at", b_complaint, m_no_received, "missing_field", "petition.received_at_ms" },
	{ "received past the skew", b_complaint, m_future, "date_in_future", "petition.received_at_ms" },
	{ "received before the floor", b_complaint, m_too_old, "date_too_old",
	  "petition.received_at_ms" },
	{ "negative instant", b_complaint, m_negative_time, "date_too_old", "petition.received_at_ms" },
	{ "no receiving agency", b_complaint, m_no_agency, "missing_field", "petition.receiving_agency" },
	{ "unknown agency", b_complaint, m_unknown_agency, "unknown_agency",
	  "petition.receiving_agency" },
	{ "agency merged away", b_complaint, m_retired_agency, "unknown_agency",
	  "petition.receiving_agency" },
	{ "agency not yet created", b_complaint, m_not_yet_agency, "unknown_agency",
	  "petition.receiving_agency" },
	{ "unknown unit", b_complaint, m_unknown_unit, "unknown_unit", "petition.location_unit" },
	{ "unknown field", b_complaint, m_unknown_field, "unknown_field", "petition.field" },
	{ "zero signers", b_complaint, m_zero_signers, "zero_signers", "petition.signer_count" },
	{ "too many signers", b_complaint, m_many_signers, "invalid_value", "petition.signer_count" },
	{ "fewer signers than petitioners", b_complaint, m_fewer_signers, "invalid_value",
	  "petition.signer_count" },
	{ "101 petitioners", b_complaint, m_too_many_people, "too_many", "petition.petitioners" },
	{ "no petitioner", b_complaint, m_no_petitioners, "missing_field", "petition.petitioners" },
	{ "petitioner without address", b_complaint, m_no_address, "missing_field",
	  "petition.petitioners[0].address" },
	{ "petitioner without name", b_complaint, m_no_name, "missing_field",
	  "petition.petitioners[0].full_name" },
	{ "anonymous complaint", b_complaint, m_anonymous_complaint, "kind_mismatch",
	  "petition.anonymous" },
	{ "anonymous with a name", b_anonymous, m_anonymous_named, "kind_mismatch",
	  "petition.petitioners[0].full_name" },
	{ "anonymous with a phone", b_anonymous, m_anonymous_phone, "kind_mismatch",
	  "petition.petitioners[0].phone" },
	{ "verifiable but named", b_denunciation, m_verifiable_named, "kind_mismatch",
	  "petition.anonymous_verifiable" },

	{ "CCCD of 11 digits", b_complaint, m_cccd_short, "invalid_id_number",
	  "petition.petitioners[0].id_number" },
	{ "CCCD with letters", b_complaint, m_cccd_letters, "invalid_id_number",
	  "petition.petitioners[0].id_number" },
	{ "passport in lower case", b_complaint, m_passport_lower, "invalid_id_number",
	  "petition.petitioners[0].id_number" },
	{ "passport too long", b_complaint, m_passport_long, "invalid_id_number",
	  "petition.petitioners[0].id_number" },
	{ "personal number of 13 digits", b_complaint, m_personal_13, "invalid_id_number",
	  "petition.petitioners[0].id_number" },
	{ "blank other id", b_complaint, m_other_blank, "invalid_id_number",
	  "petition.petitioners[0].id_number" },
	{ "CCCD kind without number", b_complaint, m_cccd_missing, "missing_field",
	  "petition.petitioners[0].id_number" },
	{ "number without kind", b_complaint, m_kind_missing, "missing_field",
	  "petition.petitioners[0].id_kind" },
	{ "kind NONE with a number", b_complaint, m_none_with_number, "kind_mismatch",
	  "petition.petitioners[0].id_number" },
	{ "letters in a phone", b_complaint, m_phone_letters, "invalid_value",
	  "petition.petitioners[0].phone" },
	{ "phone without digits", b_complaint, m_phone_no_digits, "invalid_value",
	  "petition.petitioners[0].phone" },
	{ "two @ in an email", b_complaint, m_email_two_at, "invalid_value",
	  "petition.petitioners[0].email" },
	{ "no @ in an email", b_complaint, m_email_no_at, "invalid_value",
	  "petition.petitioners[0].email" },

	{ "complaint without subject", b_complaint, m_no_subject, "missing_field",
	  "petition.complaint_subject" },
	{ "complaint without round", b_complaint, m_no_round, "missing_field", "petition.round" },
	{ "complaint without respondent", b_complaint, m_no_respondent, "missing_field",
	  "petition.respondent" },
	{ "respondent without issuer", b_complaint, m_no_issuer, "missing_field",
	  "petition.respondent.issuing_agency" },
	{ "respondent with unknown issuer", b_complaint, m_unknown_issuer, "unknown_agency",
	  "petition.respondent.issuing_agency" },
	{ "no decision number or description", b_complaint, m_no_decision, "missing_field",
	  "petition.respondent.decision_number" },
	{ "decision dated after receipt", b_complaint, m_decision_future, "date_in_future",
	  "petition.respondent.decision_date" },
	{ "decision on 29 February 2026", b_complaint, m_decision_bad_date, "invalid_date",
	  "petition.respondent.decision_date" },
	{ "complaint without summary", b_complaint, m_no_summary, "missing_field", "petition.summary" },
	{ "second round without prior", b_complaint2, m_second_no_prior, "missing_field",
	  "petition.prior_decision" },
	{ "prior decision 30 February", b_complaint2, m_prior_bad_date, "invalid_date",
	  "petition.prior_decision.date" },
	{ "prior decision without number", b_complaint2, m_prior_no_number, "missing_field",
	  "petition.prior_decision.number" },
	{ "prior decision by unknown agency", b_complaint2, m_prior_unknown_agency, "unknown_agency",
	  "petition.prior_decision.issuing_agency" },

	{ "denunciation without respondent", b_denunciation, m_den_no_respondent, "missing_field",
	  "petition.respondent" },
	{ "denunciation naming nobody", b_denunciation, m_den_no_name, "missing_field",
	  "petition.respondent.name" },
	{ "denunciation with a round", b_denunciation, m_den_round, "kind_mismatch", "petition.round" },
	{ "denunciation with a subject", b_denunciation, m_den_subject, "kind_mismatch",
	  "petition.complaint_subject" },
	{ "recommendation with a prior decision", b_recommendation, m_rec_prior, "kind_mismatch",
	  "petition.prior_decision" },
	{ "unknown managing agency", b_denunciation, m_den_managing_unknown, "unknown_agency",
	  "petition.respondent.managing_agency" },
	{ "denunciation summary missing", b_anonymous, m_no_summary, "missing_field",
	  "petition.summary" },
	{ "feedback summary missing", b_feedback, m_no_summary, "missing_field", "petition.summary" },

	{ "forwarded without forwarder", b_denunciation, m_forwarded_no_body, "missing_field",
	  "petition.forwarded_by" },
	{ "delegation by post", b_delegation, m_delegation_post, "kind_mismatch",
	  "petition.delegation_size" },
	{ "delegation of one", b_delegation, m_delegation_one, "invalid_value",
	  "petition.delegation_size" },
	{ "delegation too large", b_delegation, m_delegation_huge, "invalid_value",
	  "petition.delegation_size" },

	{ "sha256 of 31 bytes", b_complaint, m_sha_short, "invalid_attachment",
	  "petition.attachments[0].sha256" },
	{ "no sha256", b_complaint, m_sha_missing, "invalid_attachment",
	  "petition.attachments[0].sha256" },
	{ "empty attachment", b_complaint, m_size_zero, "invalid_attachment",
	  "petition.attachments[0].size" },
	{ "attachment over 2 GiB", b_complaint, m_size_huge, "invalid_attachment",
	  "petition.attachments[0].size" },
	{ "media type without subtype", b_complaint, m_media_plain, "invalid_attachment",
	  "petition.attachments[0].media_type" },
	{ "media type with parameters", b_complaint, m_media_params, "invalid_attachment",
	  "petition.attachments[0].media_type" },
	{ "second attachment bad", b_complaint, m_media_second_bad, "invalid_attachment",
	  "petition.attachments[1].media_type" },
	{ "51 attachments", b_complaint, m_too_many_att, "too_many", "petition.attachments" },
	{ "petition date month 13", b_complaint, m_petition_date_bad, "invalid_date",
	  "petition.petition_date" },
	{ "petition date not zero-padded", b_complaint, m_petition_date_short, "invalid_date",
	  "petition.petition_date" },
	{ "petition dated after receipt", b_complaint, m_petition_date_future, "date_in_future",
	  "petition.petition_date" },
	{ "21 also_sent_to", b_complaint, m_too_many_also, "too_many", "petition.also_sent_to" },

	{ "no case number", b_accept, m_no_case_number, "missing_field", "action.case_number" },
	{ "two-digit year in case number", b_accept, m_case_number_shape, "invalid_value",
	  "action.case_number" },
	{ "five-digit serial", b_accept, m_case_number_serial, "invalid_value", "action.case_number" },
	{ "case number without agency", b_accept, m_case_number_no_agency, "invalid_value",
	  "action.case_number" },
	{ "no action", b_accept, m_no_action, "missing_field", "action.action" },
	{ "action in the future", b_accept, m_action_future, "date_in_future",
	  "action.effective_at_ms" },
	{ "action without time", b_accept, m_action_no_time, "missing_field", "action.effective_at_ms" },
	{ "action in 1970", b_accept, m_action_old, "date_too_old", "action.effective_at_ms" },
	{ "accept without complexity", b_accept, m_accept_no_complexity, "missing_field",
	  "action.accept.complexity" },
	{ "accept by a retired agency", b_accept, m_accept_bad_handler, "unknown_agency",
	  "action.accept.handling_agency" },
	{ "refuse without reason", b_refuse, m_refuse_no_reason, "missing_field",
	  "action.refuse.reason" },
	{ "refuse OTHER without detail", b_refuse, m_refuse_other_no_detail, "missing_field",
	  "action.refuse.detail" },
	{ "refuse reason 99", b_refuse, m_refuse_reason_99, "invalid_enum", "action.refuse.reason" },
	{ "guide to nowhere", b_guide, m_guide_nothing, "missing_field", "action.guide.to_agency" },
	{ "guide to unknown", b_guide, m_guide_unknown, "unknown_agency", "action.guide.to_agency" },
	{ "forward to nobody", b_forward, m_forward_none, "missing_field", "action.forward.to_agency" },
	{ "forward to unknown", b_forward, m_forward_unknown, "unknown_agency",
	  "action.forward.to_agency" },
	{ "forward to a retired agency", b_forward, m_forward_retired, "unknown_agency",
	  "action.forward.to_agency" },
	{ "give back to nobody", b_give_back, m_give_back_none, "missing_field",
	  "action.give_back.to_body" },
	{ "file away without reason", b_file_away, m_file_no_reason, "missing_field",
	  "action.file_away.reason" },
	{ "file away OTHER without detail", b_file_away, m_file_other_no_detail, "missing_field",
	  "action.file_away.detail" },
	{ "extend by 0", b_extend, m_extend_0, "missing_field", "action.extend.days" },
	{ "extend by 91", b_extend, m_extend_91, "invalid_value", "action.extend.days" },
	{ "extend without reason", b_extend, m_extend_no_reason, "missing_field",
	  "action.extend.reason" },
	{ "extend complexity 4", b_extend, m_extend_complexity_bad, "invalid_enum",
	  "action.extend.complexity" },
	{ "suspend without reason", b_suspend, m_suspend_no_reason, "missing_field",
	  "action.suspend.reason" },
	{ "terminate without reason", b_terminate, m_terminate_no_reason, "missing_field",
	  "action.terminate.reason" },
	{ "decide without outcome", b_decide, m_decide_no_outcome, "missing_field",
	  "action.decide.outcome" },
	{ "decide effect 17", b_decide, m_decide_effect_bad, "invalid_enum", "action.decide.effect" },
	{ "negative money", b_decide, m_decide_negative, "invalid_value",
	  "action.decide.money_to_return_vnd" },
	{ "NaN land", b_decide, m_decide_nan, "invalid_value", "action.decide.land_to_recover_m2" },
	{ "infinite land", b_decide, m_decide_inf, "invalid_value", "action.decide.land_to_return_m2" },
	{ "negative enforcement", b_enforcement, m_enforce_negative, "invalid_value",
	  "action.enforcement.money_returned_vnd" },
	{ "reassign without reason", b_reassign, m_reassign_no_reason, "missing_field",
	  "action.reassign.reason" },
	{ "reassign to nobody", b_reassign, m_reassign_no_agency, "missing_field",
	  "action.reassign.to_agency" },
	{ "urge unknown agency", b_urge, m_urge_unknown, "unknown_agency", "action.urge.to_agency" },
	{ "truncated note", b_close, m_note_bad, "invalid_utf8", "action.note" },
	{ "DEL in officer", b_resume, m_officer_ctl, "control_character", "action.officer" },

	{ "reception without agency", b_reception, m_rec_no_agency, "missing_field",
	  "reception.agency" },
	{ "reception at a retired agency", b_reception, m_rec_unknown_agency, "unknown_agency",
	  "reception.agency" },
	{ "reception without time", b_reception, m_rec_no_time, "missing_field",
	  "reception.received_at_ms" },
	{ "reception tomorrow", b_reception, m_rec_future, "date_in_future",
	  "reception.received_at_ms" },
	{ "reception of nobody", b_reception, m_rec_zero, "zero_signers", "reception.citizen_count" },
	{ "reception without citizens", b_reception, m_rec_no_citizens, "missing_field",
	  "reception.citizens" },
	{ "unnamed citizen", b_reception, m_rec_unnamed, "missing_field",
	  "reception.citizens[0].full_name" },
	{ "citizen_count below list", b_reception, m_rec_count_low, "invalid_value",
	  "reception.citizen_count" },
	{ "no citizen address", b_reception, m_rec_no_address, "missing_field",
	  "reception.citizens[0].address" },
	{ "citizen with a bad CCCD", b_reception, m_rec_bad_id, "invalid_id_number",
	  "reception.citizens[0].id_number" },
	{ "refused without reason", b_reception, m_rec_refused_no_reason, "missing_field",
	  "reception.refusal_reason" },
	{ "reason without refusal", b_reception, m_rec_reason_not_refused, "kind_mismatch",
	  "reception.refusal_reason" },
	{ "head at a regular reception", b_reception, m_rec_head_regular, "kind_mismatch",
	  "reception.head_role" },
	{ "periodic without head", b_reception, m_rec_periodic_no_head, "missing_field",
	  "reception.head_role" },
	{ "no mode", b_reception, m_rec_no_mode, "missing_field", "reception.mode" },
	{ "online before July 2026", b_reception, m_rec_online_early, "invalid_value",
	  "reception.mode" },
	{ "reception without kind", b_reception, m_rec_no_kind, "missing_field", "reception.kind" },
	{ "reception without reception_kind", b_reception, m_rec_no_reception_kind, "missing_field",
	  "reception.reception_kind" },
	{ "reception without summary", b_reception, m_rec_no_summary, "missing_field",
	  "reception.summary" },
	{ "delegation of four", b_reception, m_rec_small_delegation, "invalid_value",
	  "reception.delegation" },
	{ "guided to unknown", b_reception, m_rec_guided_unknown, "unknown_agency",
	  "reception.guided_to_agency" },
	{ "reception in unknown unit", b_reception, m_rec_unit_unknown, "unknown_unit",
	  "reception.location_unit" },
	{ "reception case number", b_reception, m_rec_case_shape, "invalid_value",
	  "reception.case_number" },
	{ "reception mode 3", b_reception, m_rec_mode_bad, "invalid_enum", "reception.mode" },
	{ "101 citizens", b_reception, m_rec_too_many, "too_many", "reception.citizens" },

	{ "schedule without agency", b_schedule, m_sch_no_agency, "missing_field", "schedule.agency" },
	{ "schedule of unknown agency", b_schedule, m_sch_unknown_agency, "unknown_agency",
	  "schedule.agency" },
	{ "schedule without head", b_schedule, m_sch_no_head, "missing_field", "schedule.head_role" },
	{ "month 13", b_schedule, m_sch_bad_month, "invalid_date", "schedule.month" },
	{ "month with a day", b_schedule, m_sch_month_day, "invalid_date", "schedule.month" },
	{ "date outside the month", b_schedule, m_sch_outside, "invalid_date",
	  "schedule.planned_dates[1]" },
	{ "date planned twice", b_schedule, m_sch_dup, "invalid_value", "schedule.planned_dates[1]" },
	{ "31 September", b_schedule, m_sch_bad_date, "invalid_date", "schedule.planned_dates[1]" },
	{ "no planned dates", b_schedule, m_sch_none, "missing_field", "schedule.planned_dates" },
	{ "32 planned dates", b_schedule, m_sch_too_many, "too_many", "schedule.planned_dates" },
	{ "schedule before the floor", b_schedule, m_sch_old, "date_too_old", "schedule.month" },
	{ "schedule before the agency", b_schedule, m_sch_inactive, "unknown_agency",
	  "schedule.agency" },

	{ "conclusion without agency", b_conclusion, m_con_no_agency, "missing_field",
	  "conclusion.agency" },
	{ "conclusion without reception", b_conclusion, m_con_no_reception, "missing_field",
	  "conclusion.reception_id" },
	{ "conclusion without text", b_conclusion, m_con_no_text, "missing_field",
	  "conclusion.conclusion" },
	{ "conclusion without time", b_conclusion, m_con_no_time, "missing_field",
	  "conclusion.concluded_at_ms" },
	{ "conclusion in the future", b_conclusion, m_con_future, "date_in_future",
	  "conclusion.concluded_at_ms" },
	{ "task for unknown agency", b_conclusion, m_con_task_unknown, "unknown_agency",
	  "conclusion.tasks[0].assigned_agency" },
	{ "task for nobody", b_conclusion, m_con_task_no_agency, "missing_field",
	  "conclusion.tasks[0].assigned_agency" },
	{ "task due tomorrow", b_conclusion, m_con_task_bad_due, "invalid_date",
	  "conclusion.tasks[0].due_date" },
	{ "task due before the conclusion", b_conclusion, m_con_task_due_past, "invalid_date",
	  "conclusion.tasks[0].due_date" },
	{ "task without text", b_conclusion, m_con_task_no_text, "missing_field",
	  "conclusion.tasks[0].task" },
	{ "conclusion case number", b_conclusion, m_con_case_shape, "invalid_value",
	  "conclusion.case_number" },
	{ "101 tasks", b_conclusion, m_con_too_many, "too_many", "conclusion.tasks" },
};

static void test_bad_inputs(void **state)
{
	size_t codes_seen = 0;
	const char *seen[32];

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_LEN(bad_cases); i++) {
		const struct bad *b = &bad_cases[i];
		struct fx *f = fx_new();
		struct intake_verr err;
		bool known = false;
		int rc;

		b->base(f);
		/* The base itself must pass, or the case proves nothing. */
		rc = validate(f, &err);
		if (rc != 0)
			fail_msg("%s: base fails: %s %s", b->what, err.code, err.field);
		b->mut(f);
		rc = validate(f, &err);
		if (rc != CM_EINVALID || !err.code || strcmp(err.code, b->code) != 0 ||
		    strcmp(err.field, b->field) != 0)
			fail_msg("%s: want %s %s, got rc=%d %s %s: %s", b->what, b->code, b->field, rc,
				 err.code ? err.code : "(none)", err.field, err.message);
		assert_true(err.message[0] != '\0');
		for (size_t k = 0; k < codes_seen; k++)
			known = known || strcmp(seen[k], err.code) == 0;
		if (!known && codes_seen < CM_ARRAY_LEN(seen))
			seen[codes_seen++] = err.code;
		free(f);
	}
	/* Every stable code but the lifecycle one is exercised here. */
	assert_int_equal(codes_seen, 18);
	assert_true(CM_ARRAY_LEN(bad_cases) >= 35);
}

static void test_messages(void **state)
{
	struct fx *f = fx_new();
	struct intake_verr err;

	(void)state;
	b_complaint(f);
	m_retired_agency(f);
	assert_int_equal(validate(f, &err), CM_EINVALID);
	assert_string_equal(err.message,
			    "agency \"DN-STNMT\" is not active on 2026-07-30 (successor: DN-SNNMT)");
	b_complaint(f);
	m_summary_ff(f);
	assert_int_equal(validate(f, &err), CM_EINVALID);
	assert_string_equal(err.message, "invalid UTF-8 at byte 14");
	b_complaint(f);
	m_summary_long(f);
	assert_int_equal(validate(f, &err), CM_EINVALID);
	assert_string_equal(err.message, "2001 bytes, at most 2000");
	b_complaint(f);
	m_channel_99(f);
	assert_int_equal(validate(f, &err), CM_EINVALID);
	assert_string_equal(err.message, "99 is not a value of Channel");
	free(f);
}

/* ---- NFC ----------------------------------------------------------------- */

#define HOA_NFD "Ho\xcc\x80" "a"
#define HOA_NFC "H\xc3\xb2" "a"

static void test_nfc(void **state)
{
	struct fx *f = fx_new();
	Donthu__V1__SubmitRequest *r;
	struct intake_vctx ctx;
	struct intake_verr err;
	char name[INTAKE_MAX_NAME + 64];
	const char *ascii, *id_ptr;
	size_t n = 0;

	(void)state;
	b_complaint(f);
	f->pet.summary = "Phường " HOA_NFD " Cường";
	f->people[0].address = "Kiệt 12, phường " HOA_NFD " Cường";
	f->also[0] = HOA_NFD;
	f->resp.description = "Ho\xcc\x9b\xcc\x80ng";	/* ơ + grave = ờ */
	/* A name over the cap when decomposed, within it when composed. */
	while (n + 5 < INTAKE_MAX_NAME + 40) {
		memcpy(name + n, HOA_NFD, 5);
		n += 5;
	}
	name[n] = '\0';
	assert_true(strlen(name) > INTAKE_MAX_NAME);
	assert_true(n / 5 * 4 <= INTAKE_MAX_NAME);
	f->people[0].full_name = name;

	r = roundtrip(&f->req);
	ascii = r->petition->receiving_agency;
	id_ptr = r->petition->petitioners[0]->id_number;
	intake_vctx_init(&ctx, reg, now_ms);
	if (intake_validate_submit(r, &ctx, &err) != 0)
		fail_msg("%s %s: %s", err.code, err.field, err.message);
	assert_string_equal(r->petition->summary, "Phường " HOA_NFC " Cường");
	assert_string_equal(r->petition->petitioners[0]->address, "Kiệt 12, phường " HOA_NFC " Cường");
	assert_string_equal(r->petition->also_sent_to[0], HOA_NFC);
	assert_string_equal(r->petition->respondent->description, "H\xe1\xbb\x9dng");
	assert_int_equal(strlen(r->petition->petitioners[0]->full_name), n / 5 * 4);
	/* Strings that were NFC already keep their pointer. */
	assert_ptr_equal(r->petition->receiving_agency, ascii);
	assert_ptr_equal(r->petition->petitioners[0]->id_number, id_ptr);
	donthu__v1__submit_request__free_unpacked(r, NULL);

	/* Case actions and the other items are normalised too. */
	b_accept(f);
	f->act.note = "ghi ch" "u\xcc\x81";
	r = roundtrip(&f->req);
	assert_int_equal(intake_validate_submit(r, &ctx, &err), 0);
	assert_string_equal(r->action->note, "ghi ch\xc3\xba");
	donthu__v1__submit_request__free_unpacked(r, NULL);

	b_schedule(f);
	f->sch.location = "Trụ sở " HOA_NFD;
	r = roundtrip(&f->req);
	assert_int_equal(intake_validate_submit(r, &ctx, &err), 0);
	assert_string_equal(r->schedule->location, "Trụ sở " HOA_NFC);
	donthu__v1__submit_request__free_unpacked(r, NULL);

	/* A request built by hand from NFC literals is left alone. */
	free(f);
	f = fx_new();
	b_complaint(f);
	assert_int_equal(intake_validate_submit(&f->req, &ctx, &err), 0);
	assert_string_equal(f->pet.summary, "Khiếu nại quyết định thu hồi đất");
	free(f);
}

/* A request decoded into an arena (as intake's submit socket does) gets its
 * NFC copies from the arena, and no string is handed to free(): ASan would
 * report a free() of arena memory, and the arena's reset releases it all. */
static void test_nfc_arena(void **state)
{
	struct fx *f = fx_new();
	Donthu__V1__SubmitRequest *r;
	cm_env e = DONTHU__V1__ENVELOPE__INIT, *d = NULL;
	struct intake_vctx ctx;
	struct intake_verr err;
	struct cm_arena a;
	uint8_t *buf;
	size_t len;

	(void)state;
	cm_arena_init(&a, 512);
	b_complaint(f);
	f->pet.summary = "Phường " HOA_NFD " Cường";
	e.schema_version = CM_ENV_SCHEMA_VERSION;
	e.body_case = DONTHU__V1__ENVELOPE__BODY_SUBMIT;
	e.submit = &f->req;
	assert_int_equal(cm_env_pack_alloc(&e, &buf, &len), 0);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(cm_env_unpack_arena(buf, len, &a, &d), 0);
		r = d->submit;
		intake_vctx_init(&ctx, reg, now_ms);
		ctx.arena = &a;
		if (intake_validate_submit(r, &ctx, &err) != 0)
			fail_msg("%s %s: %s", err.code, err.field, err.message);
		assert_string_equal(r->petition->summary, "Phường " HOA_NFC " Cường");
		cm_arena_reset(&a);
	}
	cm_arena_free(&a);
	free(buf);
	free(f);
}

/* ---- NUL bytes on the wire ----------------------------------------------- */

/* Packs f's request in an envelope and turns the '#' of the one string that
 * holds it into a NUL, which the protobuf API cannot express. */
static uint8_t *envelope_with_nul(struct fx *f, size_t *len)
{
	Donthu__V1__Envelope env = DONTHU__V1__ENVELOPE__INIT;
	uint8_t *buf, *hash;

	env.schema_version = 1;
	env.msg_id = "m-1";
	env.body_case = DONTHU__V1__ENVELOPE__BODY_SUBMIT;
	env.submit = &f->req;
	*len = donthu__v1__envelope__get_packed_size(&env);
	buf = malloc(*len);
	assert_non_null(buf);
	donthu__v1__envelope__pack(&env, buf);
	hash = memchr(buf, '#', *len);
	if (hash)
		*hash = '\0';
	return buf;
}

static void expect_wire(struct fx *f, const char *field)
{
	struct intake_verr err;
	size_t len;
	uint8_t *buf = envelope_with_nul(f, &len);
	Donthu__V1__Envelope *e;
	struct intake_vctx ctx;
	int rc = intake_validate_wire(buf, len, &err);

	if (!field) {
		if (rc != 0)
			fail_msg("clean envelope refused: %s %s", err.field, err.message);
		free(buf);
		return;
	}
	if (rc != CM_EINVALID || strcmp(err.code, "control_character") != 0 ||
	    strcmp(err.field, field) != 0)
		fail_msg("want control_character %s, got rc=%d %s %s", field, rc,
			 err.code ? err.code : "(none)", err.field);
	/* What the NUL hides: protobuf-c cuts the string and the rest of the
	 * request is valid, so only the wire check can catch it. */
	e = donthu__v1__envelope__unpack(NULL, len, buf);
	assert_non_null(e);
	intake_vctx_init(&ctx, reg, now_ms);
	assert_int_equal(intake_validate_submit(e->submit, &ctx, &err), 0);
	donthu__v1__envelope__free_unpacked(e, NULL);
	free(buf);
}

static void test_wire_nul(void **state)
{
	struct fx *f = fx_new();
	struct intake_verr err;
	const uint8_t junk[] = { 0x52, 0x7f, 0x01 };

	(void)state;
	b_complaint(f);
	expect_wire(f, NULL);
	f->pet.summary = "Khiếu nại#ẩn";
	expect_wire(f, "petition.summary");
	b_delegation(f);
	f->people[2].full_name = "Phạm#Văn";
	expect_wire(f, "petition.petitioners[2].full_name");
	b_complaint(f);
	f->resp.description = "mô tả#";
	expect_wire(f, "petition.respondent.description");
	b_complaint(f);
	f->pet.n_also_sent_to = 3;
	f->also[2] = "#";
	expect_wire(f, "petition.also_sent_to[2]");
	b_extend(f);
	f->extend.reason = "lý do#gia hạn";
	expect_wire(f, "action.extend.reason");
	b_schedule(f);
	f->key.source_id = "id#1";
	expect_wire(f, "key.source_id");
	f->key.source_id = "id-1";
	/* Bytes fields may hold NUL: the sha256 is all 0xab here, make it 0. */
	b_complaint(f);
	memset(f->sha, 0, sizeof(f->sha));
	expect_wire(f, NULL);
	/* Malformed input is the unpack's to refuse, not ours. */
	assert_int_equal(intake_validate_wire(junk, sizeof(junk), &err), 0);
	assert_int_equal(intake_validate_wire(junk, 0, &err), 0);
	free(f);
}

/* ---- the lifecycle ------------------------------------------------------- */

#define S(x) DONTHU__V1__CASE_STATUS__CASE_STATUS_##x
#define A(x) DONTHU__V1__CASE_ACTION__ACTION_##x

/* The allowed moves, written out once more by hand: from, action, partial
 * withdrawal, to. Everything not listed must be refused. */
static const struct {
	int from;
	int action;
	bool partial;
	int to;
} allowed[] = {
	{ S(RECEIVED), A(ACCEPT), false, S(ACCEPTED) },
	{ S(RECEIVED), A(REFUSE), false, S(REFUSED) },
	{ S(RECEIVED), A(GUIDE), false, S(GUIDED) },
	{ S(RECEIVED), A(FORWARD), false, S(FORWARDED) },
	{ S(RECEIVED), A(GIVE_BACK), false, S(RETURNED) },
	{ S(RECEIVED), A(FILE_AWAY), false, S(FILED) },
	{ S(RECEIVED), A(WITHDRAW), false, S(WITHDRAWN) },
	{ S(RECEIVED), A(WITHDRAW), true, S(RECEIVED) },
	{ S(RECEIVED), A(REASSIGN), false, S(RECEIVED) },
	{ S(RECEIVED), A(URGE), false, S(RECEIVED) },
	{ S(ACCEPTED), A(EXTEND), false, S(ACCEPTED) },
	{ S(ACCEPTED), A(SUSPEND), false, S(SUSPENDED) },
	{ S(ACCEPTED), A(TERMINATE), false, S(TERMINATED) },
	{ S(ACCEPTED), A(DECIDE), false, S(DECIDED) },
	{ S(ACCEPTED), A(WITHDRAW), false, S(WITHDRAWN) },
	{ S(ACCEPTED), A(WITHDRAW), true, S(ACCEPTED) },
	{ S(ACCEPTED), A(REASSIGN), false, S(ACCEPTED) },
	{ S(ACCEPTED), A(URGE), false, S(ACCEPTED) },
	{ S(SUSPENDED), A(RESUME), false, S(ACCEPTED) },
	{ S(SUSPENDED), A(TERMINATE), false, S(TERMINATED) },
	{ S(SUSPENDED), A(WITHDRAW), false, S(WITHDRAWN) },
	{ S(SUSPENDED), A(WITHDRAW), true, S(SUSPENDED) },
	{ S(SUSPENDED), A(REASSIGN), false, S(SUSPENDED) },
	{ S(SUSPENDED), A(URGE), false, S(SUSPENDED) },
	{ S(DECIDED), A(ENFORCEMENT), false, S(DECIDED) },
	{ S(DECIDED), A(RECOMPLAINT), false, S(DECIDED) },
	{ S(DECIDED), A(CLOSE), false, S(CLOSED) },
};

static void test_transitions(void **state)
{
	struct fx *f = fx_new();
	size_t moves = 0, refusals = 0;

	(void)state;
	b_action(f);
	/* Every status of the enum plus two outside it, every action, and
	 * withdrawal both whole and partial. */
	for (int st = 0; st <= S(FILED) + 1; st++) {
		int from = st == S(FILED) + 1 ? 99 : st;

		for (int ac = A(ACCEPT); ac <= A(CLOSE); ac++) {
			for (int partial = 0; partial <= (ac == A(WITHDRAW)); partial++) {
				Donthu__V1__CaseStatus next = (Donthu__V1__CaseStatus)-1;
				struct intake_verr err;
				int want = -1, rc;

				set_action(f, (Donthu__V1__CaseAction__ActionCase)ac);
				f->withdraw.partial = partial;
				for (size_t k = 0; k < CM_ARRAY_LEN(allowed); k++)
					if (allowed[k].from == from && allowed[k].action == ac &&
					    allowed[k].partial == (bool)partial)
						want = allowed[k].to;
				rc = intake_transition((Donthu__V1__CaseStatus)from, &f->act, &next,
						       &err);
				if (want >= 0) {
					if (rc != 0 || (int)next != want)
						fail_msg("%s on %s: rc=%d next=%d, want %d",
							 intake_action_name(
								 (Donthu__V1__CaseAction__ActionCase)ac),
							 intake_status_name(
								 (Donthu__V1__CaseStatus)from),
							 rc, (int)next, want);
					moves++;
				} else {
					char field[64];

					if (rc != CM_ESTATE)
						fail_msg("%s on %s allowed",
							 intake_action_name(
								 (Donthu__V1__CaseAction__ActionCase)ac),
							 intake_status_name(
								 (Donthu__V1__CaseStatus)from));
					assert_int_equal((int)next, -1);
					assert_string_equal(err.code, "invalid_transition");
					snprintf(field, sizeof(field), "action.%s",
						 intake_action_name(
							 (Donthu__V1__CaseAction__ActionCase)ac));
					assert_string_equal(err.field, field);
					assert_non_null(strstr(err.message,
							       intake_status_name(
								       (Donthu__V1__CaseStatus)from)));
					refusals++;
				}
			}
		}
	}
	assert_int_equal(moves, CM_ARRAY_LEN(allowed));
	assert_int_equal(moves + refusals, 14 * 18);
	free(f);
}

static void test_transition_messages(void **state)
{
	struct fx *f = fx_new();
	Donthu__V1__CaseStatus next = S(RECEIVED);
	struct intake_verr err;

	(void)state;
	b_accept(f);
	assert_int_equal(intake_transition(S(ACCEPTED), &f->act, &next, &err), CM_ESTATE);
	assert_string_equal(err.message, "cannot accept a case that is accepted");
	set_action(f, A(RESUME));
	assert_int_equal(intake_transition(S(ACCEPTED), &f->act, &next, &err), CM_ESTATE);
	assert_string_equal(err.message, "cannot resume a case that is accepted");
	set_action(f, A(WITHDRAW));
	assert_int_equal(intake_transition(S(CLOSED), &f->act, &next, &err), CM_ESTATE);
	assert_string_equal(err.message, "cannot withdraw (whole) a case that is closed");
	assert_int_equal(next, S(RECEIVED));
	set_action(f, A(_NOT_SET));
	assert_int_equal(intake_transition(S(RECEIVED), &f->act, &next, &err), CM_EINVALID);
	assert_string_equal(err.code, "missing_field");
	free(f);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(intake_status_name(S(UNSPECIFIED)), "unspecified");
	assert_string_equal(intake_status_name(S(RECEIVED)), "received");
	assert_string_equal(intake_status_name(S(ACCEPTED)), "accepted");
	assert_string_equal(intake_status_name(S(SUSPENDED)), "suspended");
	assert_string_equal(intake_status_name(S(DECIDED)), "decided");
	assert_string_equal(intake_status_name(S(WITHDRAWN)), "withdrawn");
	assert_string_equal(intake_status_name(S(TERMINATED)), "terminated");
	assert_string_equal(intake_status_name(S(CLOSED)), "closed");
	assert_string_equal(intake_status_name(S(REFUSED)), "refused");
	assert_string_equal(intake_status_name(S(GUIDED)), "guided");
	assert_string_equal(intake_status_name(S(FORWARDED)), "forwarded");
	assert_string_equal(intake_status_name(S(RETURNED)), "returned");
	assert_string_equal(intake_status_name(S(FILED)), "filed");
	assert_string_equal(intake_status_name((Donthu__V1__CaseStatus)13), "unknown");
	assert_string_equal(intake_status_name((Donthu__V1__CaseStatus)-1), "unknown");
	assert_string_equal(intake_action_name(A(_NOT_SET)), "none");
	assert_string_equal(intake_action_name(A(GIVE_BACK)), "give_back");
	assert_string_equal(intake_action_name(A(CLOSE)), "close");
	assert_string_equal(intake_action_name((Donthu__V1__CaseAction__ActionCase)27), "none");
	/* Action names are the proto field names, so paths read like the wire. */
	for (int ac = A(ACCEPT); ac <= A(CLOSE); ac++) {
		const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field(
			&donthu__v1__case_action__descriptor, (unsigned)ac);

		assert_non_null(fd);
		assert_string_equal(fd->name,
				    intake_action_name((Donthu__V1__CaseAction__ActionCase)ac));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_valid_edges),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_nfc),
		cmocka_unit_test(test_nfc_arena),
		cmocka_unit_test(test_wire_nul),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_transition_messages),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
