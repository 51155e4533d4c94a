#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/pbjson.h"
#include "donthu/v1/envelope.pb-c.h"
#include "donthu/v1/intake.pb-c.h"

#define SUBMIT (&donthu__v1__submit_request__descriptor)
#define ENVELOPE (&donthu__v1__envelope__descriptor)

/* Fixtures are written with ' for " so they read like the JSON they are. */
static char *dq(const char *sq)
{
	char *t = strdup(sq), *p;

	assert_non_null(t);
	for (p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

static ProtobufCMessage *parse_ok(const ProtobufCMessageDescriptor *d, const char *sq)
{
	struct cm_pbjson_err e;
	ProtobufCMessage *m = NULL;
	char *t = dq(sq);
	int rc = cm_pbjson_parse_text(d, t, strlen(t), &m, &e);

	if (rc)
		print_error("unexpected error at '%s': %s\n", e.path, e.message);
	assert_int_equal(rc, 0);
	assert_non_null(m);
	free(t);
	return m;
}

static void parse_fails(const ProtobufCMessageDescriptor *d, const char *sq, int want_rc,
			const char *want_path, const char *want_msg)
{
	struct cm_pbjson_err e;
	ProtobufCMessage *m = (ProtobufCMessage *)&e; /* must be reset to NULL */
	char *t = dq(sq);
	int rc = cm_pbjson_parse_text(d, t, strlen(t), &m, &e);

	if (rc != want_rc || strcmp(e.path, want_path) != 0 || !strstr(e.message, want_msg))
		print_error("input %s\n  got rc %d path '%s' message '%s'\n  want rc %d path '%s' "
			    "message containing '%s'\n",
			    t, rc, e.path, e.message, want_rc, want_path, want_msg);
	assert_int_equal(rc, want_rc);
	assert_null(m);
	assert_string_equal(e.path, want_path);
	assert_non_null(strstr(e.message, want_msg));
	free(t);
}

static void assert_json_equal(json_t *got, json_t *want)
{
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_INDENT(1) | JSON_SORT_KEYS);
		char *w = json_dumps(want, JSON_INDENT(1) | JSON_SORT_KEYS);

		print_error("got  %s\nwant %s\n", g, w);
		free(g);
		free(w);
	}
	assert_true(json_equal(got, want));
}

static json_t *load(const char *sq)
{
	char *t = dq(sq);
	json_error_t je;
	json_t *j = json_loads(t, 0, &je);

	if (!j)
		print_error("fixture: %s\n", je.text);
	assert_non_null(j);
	free(t);
	return j;
}

static void assert_same_wire(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t na = protobuf_c_message_get_packed_size(a);
	size_t nb = protobuf_c_message_get_packed_size(b);
	uint8_t *pa = malloc(na + 1), *pb = malloc(nb + 1);

	assert_int_equal(na, nb);
	protobuf_c_message_pack(a, pa);
	protobuf_c_message_pack(b, pb);
	assert_memory_equal(pa, pb, na);
	free(pa);
	free(pb);
}

/* The canonical rendering of m is exactly `canonical`; it survives the
 * wire; and rendering with defaults reads back as the same message. */
static void check_roundtrip(const ProtobufCMessage *m, const char *canonical)
{
	json_t *want = load(canonical), *r, *full;
	ProtobufCMessage *back = NULL, *again = NULL;
	struct cm_pbjson_err e;
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n + 1);

	r = cm_pbjson_render(m, 0);
	assert_json_equal(r, want);

	protobuf_c_message_pack(m, buf);
	back = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
	assert_non_null(back);
	json_decref(r);
	r = cm_pbjson_render(back, 0);
	assert_json_equal(r, want);

	full = cm_pbjson_render(m, CM_PBJSON_EMIT_DEFAULTS);
	assert_int_equal(cm_pbjson_parse(m->descriptor, full, &again, &e), 0);
	assert_same_wire(m, again);

	protobuf_c_message_free_unpacked(again, NULL);
	protobuf_c_message_free_unpacked(back, NULL);
	free(buf);
	json_decref(full);
	json_decref(r);
	json_decref(want);
}

#define SHA_HEX "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static const char *petition_json =
	"{'request_id': 42,"
	" 'key': {'source_system': 'portal.danang', 'source_id': 'P-2026-0001'},"
	" 'petition': {"
	"  'channel': 'CHANNEL_PORTAL',"
	"  'received_at_ms': 1782867600000,"
	"  'receiving_agency': 'DN-STC',"
	"  'kind': 'PETITION_KIND_COMPLAINT',"
	"  'complaint_subject': 'COMPLAINT_SUBJECT_ADMINISTRATIVE_DECISION',"
	"  'petitioners': ["
	"   {'full_name': 'Nguyễn Văn An', 'id_kind': 'ID_KIND_CCCD', 'id_number': '048090000123',"
	"    'address': '12 Lê Duẩn, Hải Châu, Đà Nẵng', 'phone': '0905123456',"
	"    'email': 'an@example.vn', 'is_representative': true},"
	"   {'full_name': 'Trần Thị Bình', 'id_kind': 'ID_KIND_PASSPORT', 'id_number': 'C1234567',"
	"    'identity_protection': true}],"
	"  'signer_count': 2,"
	"  'respondent': {'name': 'UBND phường Hòa Cường', 'position': 'Chủ tịch',"
	"   'issuing_agency': 'DN-HC', 'decision_number': '123/QĐ-UBND',"
	"   'decision_date': '2026-05-02', 'description': 'thu hồi đất'},"
	"  'field': 'dat-dai',"
	"  'summary': 'Khiếu nại quyết định thu hồi đất',"
	"  'text': 'Dòng 1\\nDòng 2\\t\\u00e9',"
	"  'location_unit': '20242',"
	"  'round': 'COMPLAINT_ROUND_SECOND',"
	"  'prior_decision': {'number': '45/QĐ-UBND', 'date': '2026-03-01',"
	"   'issuing_agency': 'DN-HC', 'outcome': 'DECISION_OUTCOME_WRONG'},"
	"  'attachments': ["
	"   {'sha256': '" SHA_HEX "', 'media_type': 'application/pdf',"
	"    'size': 123456, 'uri': 'file:///srv/a.pdf', 'title': 'Đơn', 'original': true},"
	"   {'sha256': 'AAEC/w==', 'size': '9007199254740993'}],"
	"  'source_id': 'P-2026-0001',"
	"  'forwarded_by': 'DN-TTR',"
	"  'anonymous_verifiable': true,"
	"  'signed': true,"
	"  'petition_date': '2026-06-30',"
	"  'delegation_size': 7,"
	"  'serious_harm': true,"
	"  'translated': true,"
	"  'also_sent_to': ['DN-TTR', 'DN-UBND']}}";

static void test_roundtrip_petition(void **state)
{
	Donthu__V1__SubmitRequest *r;
	Donthu__V1__Petition *p;

	(void)state;
	r = (Donthu__V1__SubmitRequest *)parse_ok(SUBMIT, petition_json);
	assert_int_equal(r->request_id, 42);
	assert_string_equal(r->key->source_system, "portal.danang");
	assert_int_equal(r->item_case, DONTHU__V1__SUBMIT_REQUEST__ITEM_PETITION);
	p = r->petition;
	assert_int_equal(p->channel, DONTHU__V1__CHANNEL__CHANNEL_PORTAL);
	assert_int_equal(p->received_at_ms, 1782867600000LL);
	assert_int_equal(p->n_petitioners, 2);
	assert_string_equal(p->petitioners[0]->full_name, "Nguyễn Văn An");
	assert_true(p->petitioners[0]->is_representative);
	assert_int_equal(p->petitioners[1]->id_kind, DONTHU__V1__ID_KIND__ID_KIND_PASSPORT);
	assert_true(p->petitioners[1]->identity_protection);
	assert_int_equal(p->signer_count, 2);
	assert_string_equal(p->text, "Dòng 1\nDòng 2\t\xc3\xa9");
	assert_int_equal(p->round, DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_SECOND);
	assert_int_equal(p->prior_decision->outcome, DONTHU__V1__DECISION_OUTCOME__DECISION_OUTCOME_WRONG);
	assert_int_equal(p->n_attachments, 2);
	assert_int_equal(p->attachments[0]->sha256.len, 32);
	assert_int_equal(p->attachments[0]->sha256.data[0], 0x9f);
	assert_int_equal(p->attachments[0]->sha256.data[31], 0x08);
	assert_int_equal(p->attachments[0]->size, 123456);
	assert_int_equal(p->attachments[1]->sha256.len, 4);
	assert_memory_equal(p->attachments[1]->sha256.data, "\x00\x01\x02\xff", 4);
	assert_int_equal(p->attachments[1]->size, 9007199254740993ULL);
	assert_false(p->anonymous);
	assert_true(p->anonymous_verifiable);
	assert_int_equal(p->n_also_sent_to, 2);
	assert_string_equal(p->also_sent_to[1], "DN-UBND");

	/* 2^53 + 1 comes back as a string; a 4-byte sha256 as base64. */
	check_roundtrip(&r->base, petition_json);
	donthu__v1__submit_request__free_unpacked(r, NULL);
}

static const char *action_json =
	"{'request_id': 7,"
	" 'action': {'case_number': 'DN-STC/2026/000123', 'effective_at_ms': 1781515800000,"
	"  'officer': 'stc.nguyenb', 'document_number': '12/QĐ-STC', 'note': 'kết luận',"
	"  'decide': {'outcome': 'DECISION_OUTCOME_PARTLY_RIGHT', 'effect': 'DECISION_EFFECT_AMENDED',"
	"   'conclusion': true, 'money_to_recover_vnd': 1250000000, 'money_to_return_vnd': -5,"
	"   'land_to_recover_m2': 120.5, 'land_to_return_m2': 3.0e-7,"
	"   'people_to_sanction': 3, 'people_referred': 1, 'people_rights_restored': 4294967295}}}";

static void test_roundtrip_action(void **state)
{
	Donthu__V1__SubmitRequest *r;
	Donthu__V1__Decide *d;

	(void)state;
	r = (Donthu__V1__SubmitRequest *)parse_ok(SUBMIT, action_json);
	assert_int_equal(r->item_case, DONTHU__V1__SUBMIT_REQUEST__ITEM_ACTION);
	assert_int_equal(r->action->action_case, DONTHU__V1__CASE_ACTION__ACTION_DECIDE);
	d = r->action->decide;
	assert_int_equal(d->money_to_recover_vnd, 1250000000);
	assert_int_equal(d->money_to_return_vnd, -5);
	assert_true(d->land_to_recover_m2 == 120.5);
	assert_true(d->land_to_return_m2 == 3.0e-7);
	assert_int_equal(d->people_rights_restored, 4294967295U);
	check_roundtrip(&r->base, action_json);
	donthu__v1__submit_request__free_unpacked(r, NULL);
}

static void test_roundtrip_events(void **state)
{
	static const char *received =
		"{'schema_version': 1, 'msg_id': 'intake/9', 'producer': 'intake', 'sequence': 9,"
		" 'occurred_at_ms': 1782867600000, 'case_number': 'DN-STC/2026/000001',"
		" 'petition_received': {'case_number': 'DN-STC/2026/000001',"
		"  'petition': {'kind': 'PETITION_KIND_DENUNCIATION', 'anonymous': true},"
		"  'petitioners': [{'pseudonym': '" SHA_HEX "', 'identity_protection': true},"
		"                  {'pseudonym': 'AQI=', 'has_id_number': true}],"
		"  'registered_at_ms': 1782867600001}}";
	static const char *escalation =
		"{'schema_version': 1, 'escalation': {'level': 'ESCALATION_LEVEL_OVERDUE',"
		" 'reason': 'ESCALATION_REASON_DEADLINE', 'days_overdue': -2147483648, 'detail': 'x'}}";
	static const char *fetch =
		"{'fetch_reply': {'producer': 'intake', 'first_seq': 1, 'head_seq': '18446744073709551615',"
		" 'events': ['', 'AA==', 'AAE=', 'AAEC', '" SHA_HEX "']}}";
	static const char *fetch_canonical =
		"{'fetch_reply': {'producer': 'intake', 'first_seq': 1, 'head_seq': '18446744073709551615',"
		" 'events': ['', 'AA==', 'AAE=', 'AAEC', 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=']}}";
	Donthu__V1__Envelope *e;

	(void)state;
	e = (Donthu__V1__Envelope *)parse_ok(ENVELOPE, received);
	assert_int_equal(e->petition_received->petitioners[0]->pseudonym.len, 32);
	assert_int_equal(e->petition_received->petitioners[1]->pseudonym.len, 2);
	check_roundtrip(&e->base, received);
	donthu__v1__envelope__free_unpacked(e, NULL);

	e = (Donthu__V1__Envelope *)parse_ok(ENVELOPE, escalation);
	assert_int_equal(e->escalation->days_overdue, INT32_MIN);
	check_roundtrip(&e->base, escalation);
	donthu__v1__envelope__free_unpacked(e, NULL);

	/* Repeated bytes: empty entries kept; 64 hex digits read as hex even
	 * where the field is rendered as base64. */
	e = (Donthu__V1__Envelope *)parse_ok(ENVELOPE, fetch);
	assert_int_equal(e->fetch_reply->n_events, 5);
	assert_int_equal(e->fetch_reply->events[0].len, 0);
	assert_int_equal(e->fetch_reply->events[4].len, 32);
	assert_int_equal(e->fetch_reply->head_seq, UINT64_MAX);
	check_roundtrip(&e->base, fetch_canonical);
	donthu__v1__envelope__free_unpacked(e, NULL);
}

static void test_camel_case(void **state)
{
	static const char *camel =
		"{'requestId': '42', 'key': {'sourceSystem': 'a', 'sourceId': 'b'},"
		" 'petition': {'receivedAtMs': 1, 'receivingAgency': 'DN', 'complaintSubject': 2,"
		"  'signerCount': 3, 'petitioners': [{'fullName': 'x', 'idKind': 'cccd',"
		"   'isRepresentative': true}], 'alsoSentTo': ['y'], 'priorDecision': {'issuingAgency': 'z'}}}";
	static const char *snake =
		"{'request_id': 42, 'key': {'source_system': 'a', 'source_id': 'b'},"
		" 'petition': {'received_at_ms': 1, 'receiving_agency': 'DN',"
		"  'complaint_subject': 'COMPLAINT_SUBJECT_ADMINISTRATIVE_ACT',"
		"  'signer_count': 3, 'petitioners': [{'full_name': 'x', 'id_kind': 'ID_KIND_CCCD',"
		"   'is_representative': true}], 'also_sent_to': ['y'], 'prior_decision': {'issuing_agency': 'z'}}}";
	ProtobufCMessage *a, *b;

	(void)state;
	a = parse_ok(SUBMIT, camel);
	b = parse_ok(SUBMIT, snake);
	assert_same_wire(a, b);
	check_roundtrip(a, snake);
	protobuf_c_message_free_unpacked(a, NULL);
	protobuf_c_message_free_unpacked(b, NULL);

	/* Digits after an underscore: land_to_recover_m2 -> landToRecoverM2. */
	a = parse_ok(SUBMIT, "{'action': {'decide': {'landToRecoverM2': 2}}}");
	assert_true(((Donthu__V1__SubmitRequest *)a)->action->decide->land_to_recover_m2 == 2.0);
	protobuf_c_message_free_unpacked(a, NULL);
	/* Half-converted names are not names. */
	parse_fails(SUBMIT, "{'petition': {'received_atMs': 1}}", CM_EINVALID, "petition.received_atMs",
		    "unknown field \"received_atMs\" in donthu.v1.Petition");
	parse_fails(SUBMIT, "{'RequestId': 1}", CM_EINVALID, "RequestId", "unknown field");
}

static void test_enum_forms(void **state)
{
	static const char *forms[] = {
		"'PETITION_KIND_COMPLAINT'", "'petition_kind_complaint'", "'COMPLAINT'",
		"'complaint'", "'Complaint'", "1",
	};
	char buf[128];
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_LEN(forms); i++) {
		Donthu__V1__SubmitRequest *r;

		snprintf(buf, sizeof(buf), "{'petition': {'kind': %s}}", forms[i]);
		r = (Donthu__V1__SubmitRequest *)parse_ok(SUBMIT, buf);
		assert_int_equal(r->petition->kind, DONTHU__V1__PETITION_KIND__PETITION_KIND_COMPLAINT);
		check_roundtrip(&r->base, "{'petition': {'kind': 'PETITION_KIND_COMPLAINT'}}");
		donthu__v1__submit_request__free_unpacked(r, NULL);
	}
	/* Multi-word short names and the zero value by name. */
	{
		Donthu__V1__SubmitRequest *r = (Donthu__V1__SubmitRequest *)parse_ok(SUBMIT,
			"{'petition': {'channel': 'national_database', 'kind': 'UNSPECIFIED',"
			" 'petitioners': [{'id_kind': 'personal_number'}]}}");

		assert_int_equal(r->petition->channel, DONTHU__V1__CHANNEL__CHANNEL_NATIONAL_DATABASE);
		assert_int_equal(r->petition->kind, 0);
		assert_int_equal(r->petition->petitioners[0]->id_kind,
				 DONTHU__V1__ID_KIND__ID_KIND_PERSONAL_NUMBER);
		donthu__v1__submit_request__free_unpacked(r, NULL);
	}
	parse_fails(SUBMIT, "{'petition': {'petitioners': [{'full_name': 'A'}, {'id_kind': 'CCCDD'}]}}",
		    CM_EINVALID, "petition.petitioners[1].id_kind",
		    "unknown value \"CCCDD\" for enum donthu.v1.IdKind; expected one of CCCD, PASSPORT, "
		    "PERSONAL_NUMBER, OTHER, NONE");
	parse_fails(SUBMIT, "{'petition': {'kind': 'KIND_COMPLAINT'}}", CM_EINVALID, "petition.kind",
		    "unknown value");
	parse_fails(SUBMIT, "{'petition': {'kind': 99}}", CM_EINVALID, "petition.kind",
		    "99 is not a value of enum donthu.v1.PetitionKind");
	parse_fails(SUBMIT, "{'petition': {'kind': 4294967297}}", CM_EINVALID, "petition.kind",
		    "is not a value of enum");
	parse_fails(SUBMIT, "{'petition': {'kind': true}}", CM_EINVALID, "petition.kind",
		    "expected an enum name (donthu.v1.PetitionKind), got true");
	parse_fails(SUBMIT, "{'petition': {'kind': '1'}}", CM_EINVALID, "petition.kind", "unknown value \"1\"");
	/* A long enum's list is cut, not overflowed. */
	parse_fails(SUBMIT, "{'action': {'refuse': {'reason': 'nope'}}}", CM_EINVALID,
		    "action.refuse.reason", " ...");
}

static void test_rfc3339(void **state)
{
	Donthu__V1__SubmitRequest *r;

	(void)state;
	r = (Donthu__V1__SubmitRequest *)parse_ok(SUBMIT,
		"{'petition': {'received_at_ms': '2026-07-01T08:00:00+07:00'},"
		" 'action': null}");
	assert_int_equal(r->petition->received_at_ms, 1782867600000LL);
	check_roundtrip(&r->base, "{'petition': {'received_at_ms': 1782867600000}}");
	donthu__v1__submit_request__free_unpacked(r, NULL);

	r = (Donthu__V1__SubmitRequest *)parse_ok(SUBMIT,
		"{'action': {'effective_at_ms': '2026-06-15T09:30:00.250Z'}}");
	assert_int_equal(r->action->effective_at_ms, 1781515800250LL);
	donthu__v1__submit_request__free_unpacked(r, NULL);

	/* Decimal strings still work; dates alone and missing offsets do not. */
	r = (Donthu__V1__SubmitRequest *)parse_ok(SUBMIT, "{'petition': {'received_at_ms': '-1'}}");
	assert_int_equal(r->petition->received_at_ms, -1);
	donthu__v1__submit_request__free_unpacked(r, NULL);
	parse_fails(SUBMIT, "{'petition': {'received_at_ms': '2026-07-01'}}", CM_EINVALID,
		    "petition.received_at_ms",
		    "\"2026-07-01\" is neither milliseconds since the epoch nor an RFC 3339 time");
	parse_fails(SUBMIT, "{'petition': {'received_at_ms': '2026-07-01T08:00:00'}}", CM_EINVALID,
		    "petition.received_at_ms", "RFC 3339");
	/* Only *_at_ms fields take times. */
	parse_fails(SUBMIT, "{'request_id': '2026-07-01T08:00:00Z'}", CM_EINVALID, "request_id",
		    "\"2026-07-01T08:00:00Z\" is not a decimal integer (uint64)");
	parse_fails(ENVELOPE, "{'clock': {'set_ms': '2026-07-01T08:00:00Z'}}", CM_EINVALID,
		    "clock.set_ms", "is not a decimal integer (int64)");
}

static void test_big_integers(void **state)
{
	Donthu__V1__SubmitRequest *r;
	Donthu__V1__Envelope *e;

	(void)state;
	r = (Donthu__V1__SubmitRequest *)parse_ok(SUBMIT, "{'request_id': '18446744073709551615'}");
	assert_int_equal(r->request_id, UINT64_MAX);
	check_roundtrip(&r->base, "{'request_id': '18446744073709551615'}");
	donthu__v1__submit_request__free_unpacked(r, NULL);

	/* 2^53 itself is exact in a double, so it stays a number. */
	r = (Donthu__V1__SubmitRequest *)parse_ok(SUBMIT, "{'request_id': '9007199254740992'}");
	check_roundtrip(&r->base, "{'request_id': 9007199254740992}");
	donthu__v1__submit_request__free_unpacked(r, NULL);

	r = (Donthu__V1__SubmitRequest *)parse_ok(SUBMIT,
		"{'action': {'decide': {'money_to_recover_vnd': -9223372036854775808,"
		" 'money_to_return_vnd': '-9007199254740993', 'people_referred': '12'}}}");
	assert_int_equal(r->action->decide->money_to_recover_vnd, INT64_MIN);
	assert_int_equal(r->action->decide->people_referred, 12);
	check_roundtrip(&r->base,
		"{'action': {'decide': {'money_to_recover_vnd': '-9223372036854775808',"
		" 'money_to_return_vnd': '-9007199254740993', 'people_referred': 12}}}");
	donthu__v1__submit_request__free_unpacked(r, NULL);

	e = (Donthu__V1__Envelope *)parse_ok(ENVELOPE, "{'sequence': 9223372036854775807}");
	assert_int_equal(e->sequence, INT64_MAX);
	donthu__v1__envelope__free_unpacked(e, NULL);
}

static void test_oneof_scalars(void **state)
{
	Donthu__V1__Envelope *e;
	Donthu__V1__ReportReply *rr;

	(void)state;
	/* A set member is rendered even at its default value. */
	e = (Donthu__V1__Envelope *)parse_ok(ENVELOPE, "{'clock': {'set_ms': 0}}");
	assert_int_equal(e->clock->op_case, DONTHU__V1__CLOCK_CONTROL__OP_SET_MS);
	check_roundtrip(&e->base, "{'clock': {'set_ms': 0}}");
	donthu__v1__envelope__free_unpacked(e, NULL);

	e = (Donthu__V1__Envelope *)parse_ok(ENVELOPE,
		"{'report_reply': {'rows': [{'cells': [{'i': 0}, {'d': 0.5}, {'s': ''}, {'d': 'NaN'},"
		" {'d': 'Infinity'}, {'d': '-Infinity'}, {'d': 2}, {}, {'s': null, 'i': 3}]}]}}");
	rr = e->report_reply;
	assert_int_equal(rr->rows[0]->n_cells, 9);
	assert_int_equal(rr->rows[0]->cells[2]->v_case, DONTHU__V1__REPORT_CELL__V_S);
	assert_true(isnan(rr->rows[0]->cells[3]->d));
	assert_true(isinf(rr->rows[0]->cells[5]->d) && rr->rows[0]->cells[5]->d < 0);
	assert_int_equal(rr->rows[0]->cells[7]->v_case, DONTHU__V1__REPORT_CELL__V__NOT_SET);
	assert_int_equal(rr->rows[0]->cells[8]->i, 3);
	check_roundtrip(&e->base,
		"{'report_reply': {'rows': [{'cells': [{'i': 0}, {'d': 0.5}, {'s': ''}, {'d': 'NaN'},"
		" {'d': 'Infinity'}, {'d': '-Infinity'}, {'d': 2.0}, {}, {'i': 3}]}]}}");
	donthu__v1__envelope__free_unpacked(e, NULL);

	/* An empty sub-message is present, and stays present. */
	e = (Donthu__V1__Envelope *)parse_ok(ENVELOPE, "{'status': {}}");
	assert_int_equal(e->body_case, DONTHU__V1__ENVELOPE__BODY_STATUS);
	check_roundtrip(&e->base, "{'status': {}}");
	donthu__v1__envelope__free_unpacked(e, NULL);

	parse_fails(SUBMIT, "{'petition': {}, 'action': {}}", CM_EINVALID, "action",
		    "\"petition\" and \"action\" are members of one oneof in donthu.v1.SubmitRequest");
	parse_fails(ENVELOPE, "{'clock': {'setMs': 1, 'advance_ms': 2}}", CM_EINVALID,
		    "clock.advance_ms", "\"setMs\" and \"advance_ms\"");
	parse_fails(ENVELOPE, "{'report_reply': {'rows': [{'cells': [{'d': 'nan'}]}]}}", CM_EINVALID,
		    "report_reply.rows[0].cells[0].d",
		    "expected a number (double) or \"NaN\", \"Infinity\", \"-Infinity\", got \"nan\"");
	parse_fails(ENVELOPE, "{'duplicate_linked': {'similarity': []}}", CM_EINVALID,
		    "duplicate_linked.similarity", "expected a number (double), got an array");
}

static void test_bytes_forms(void **state)
{
	static const char *upper = "{'petition': {'attachments': [{'sha256': "
				   "'9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08'}]}}";
	static const char *b64 = "{'petition': {'attachments': [{'sha256': "
				 "'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg'}]}}";
	static const char *canonical = "{'petition': {'attachments': [{'sha256': '" SHA_HEX "'}]}}";
	ProtobufCMessage *a, *b;
	Donthu__V1__SubmitRequest *r;

	(void)state;
	a = parse_ok(SUBMIT, upper);
	b = parse_ok(SUBMIT, b64); /* unpadded base64 of the same 32 bytes */
	assert_same_wire(a, b);
	check_roundtrip(a, canonical);
	protobuf_c_message_free_unpacked(a, NULL);
	protobuf_c_message_free_unpacked(b, NULL);

	r = (Donthu__V1__SubmitRequest *)parse_ok(SUBMIT,
		"{'petition': {'attachments': [{'sha256': ''}, {'sha256': 'AA'}, {'sha256': 'AAA'},"
		" {'sha256': 'AAA='}, {'sha256': '+/+/'}]}}");
	assert_int_equal(r->petition->attachments[0]->sha256.len, 0);
	assert_null(r->petition->attachments[0]->sha256.data);
	assert_int_equal(r->petition->attachments[1]->sha256.len, 1);
	assert_int_equal(r->petition->attachments[2]->sha256.len, 2);
	assert_int_equal(r->petition->attachments[3]->sha256.len, 2);
	assert_memory_equal(r->petition->attachments[4]->sha256.data, "\xfb\xff\xbf", 3);
	check_roundtrip(&r->base,
		"{'petition': {'attachments': [{}, {'sha256': 'AA=='}, {'sha256': 'AAA='},"
		" {'sha256': 'AAA='}, {'sha256': '+/+/'}]}}");
	donthu__v1__submit_request__free_unpacked(r, NULL);

	parse_fails(SUBMIT, "{'petition': {'attachments': [{'sha256': 'AAAAA'}]}}", CM_EINVALID,
		    "petition.attachments[0].sha256", "not base64: 5 characters");
	parse_fails(SUBMIT, "{'petition': {'attachments': [{'sha256': 'AA='}]}}", CM_EINVALID,
		    "petition.attachments[0].sha256", "not base64");
	parse_fails(SUBMIT, "{'petition': {'attachments': [{'sha256': 'AAAA='}]}}", CM_EINVALID,
		    "petition.attachments[0].sha256", "not base64");
	parse_fails(SUBMIT, "{'petition': {'attachments': [{'sha256': 'A=AA'}]}}", CM_EINVALID,
		    "petition.attachments[0].sha256", "offset 1");
	parse_fails(SUBMIT, "{'petition': {'attachments': [{'sha256': 'ab-_'}]}}", CM_EINVALID,
		    "petition.attachments[0].sha256",
		    "not base64: the character at offset 2 is not in the standard alphabet");
	parse_fails(SUBMIT, "{'petition': {'attachments': [{'sha256': 'AA AA'}]}}", CM_EINVALID,
		    "petition.attachments[0].sha256", "offset 2");
	parse_fails(SUBMIT, "{'petition': {'attachments': [{'sha256': 32}]}}", CM_EINVALID,
		    "petition.attachments[0].sha256", "expected a base64 or 64-hex-digit string, got an integer");
}

static void test_defaults(void **state)
{
	Donthu__V1__SubmitRequest *r;
	json_t *j, *want;

	(void)state;
	r = (Donthu__V1__SubmitRequest *)parse_ok(SUBMIT, "{'petition': {}}");
	j = cm_pbjson_render(&r->base, CM_PBJSON_EMIT_DEFAULTS);
	want = load("{'request_id': 0, 'key': null, 'petition': {"
		    " 'channel': 'CHANNEL_UNSPECIFIED', 'received_at_ms': 0, 'receiving_agency': '',"
		    " 'kind': 'PETITION_KIND_UNSPECIFIED', 'complaint_subject': 'COMPLAINT_SUBJECT_UNSPECIFIED',"
		    " 'petitioners': [], 'signer_count': 0, 'respondent': null, 'field': '', 'summary': '',"
		    " 'text': '', 'location_unit': '', 'round': 'COMPLAINT_ROUND_UNSPECIFIED',"
		    " 'prior_decision': null, 'attachments': [], 'source_id': '', 'forwarded_by': '',"
		    " 'anonymous': false, 'anonymous_verifiable': false, 'signed': false,"
		    " 'petition_date': '', 'delegation_size': 0, 'serious_harm': false,"
		    " 'translated': false, 'also_sent_to': []}}");
	assert_json_equal(j, want);
	json_decref(want);
	json_decref(j);
	check_roundtrip(&r->base, "{'petition': {}}");
	donthu__v1__submit_request__free_unpacked(r, NULL);

	/* Explicit defaults and nulls parse to the empty message. */
	r = (Donthu__V1__SubmitRequest *)parse_ok(SUBMIT,
		"{'request_id': 0, 'key': null, 'petition': null, 'action': null}");
	check_roundtrip(&r->base, "{}");
	j = cm_pbjson_render(&r->base, CM_PBJSON_EMIT_DEFAULTS);
	want = load("{'request_id': 0, 'key': null}");
	assert_json_equal(j, want);
	json_decref(want);
	json_decref(j);
	donthu__v1__submit_request__free_unpacked(r, NULL);
}

static void test_errors(void **state)
{
	static const struct {
		const ProtobufCMessageDescriptor *d;
		const char *in, *path, *msg;
	} cases[] = {
		{ SUBMIT, "{'request_id': 1, 'bogus': 2}", "bogus",
		  "unknown field \"bogus\" in donthu.v1.SubmitRequest" },
		{ SUBMIT, "{'key': {'source_system': 'x', 'sourceid': 1}}", "key.sourceid",
		  "unknown field \"sourceid\" in donthu.v1.IdempotencyKey" },
		{ SUBMIT, "{'petition': {'petitioners': [{}, {'full_name': 'A', 'age': 3}]}}",
		  "petition.petitioners[1].age", "unknown field \"age\" in donthu.v1.Person" },
		{ SUBMIT, "{'petition': {'signer_count': 'x'}}", "petition.signer_count",
		  "\"x\" is not a decimal integer (uint32)" },
		{ SUBMIT, "{'petition': {'signer_count': ' 1'}}", "petition.signer_count",
		  "is not a decimal integer" },
		{ SUBMIT, "{'petition': {'signer_count': '+1'}}", "petition.signer_count",
		  "is not a decimal integer" },
		{ SUBMIT, "{'petition': {'signer_count': ''}}", "petition.signer_count",
		  "is not a decimal integer" },
		{ SUBMIT, "{'request_id': '007'}", "request_id", "\"007\" is not a decimal integer (uint64)" },
		{ SUBMIT, "{'petition': {'signer_count': true}}", "petition.signer_count",
		  "expected an integer (uint32), got true" },
		{ SUBMIT, "{'petition': {'signer_count': 4294967296}}", "petition.signer_count",
		  "4294967296 is out of range for uint32 (0..4294967295)" },
		{ SUBMIT, "{'petition': {'signer_count': -1}}", "petition.signer_count",
		  "-1 is out of range for uint32 (0..4294967295)" },
		{ SUBMIT, "{'petition': {'signer_count': 1.5}}", "petition.signer_count",
		  "expected an integer (uint32), got 1.5; write integers without a fraction or exponent" },
		{ SUBMIT, "{'petition': {'signer_count': 1.0}}", "petition.signer_count",
		  "expected an integer (uint32), got 1" },
		{ SUBMIT, "{'request_id': '18446744073709551616'}", "request_id",
		  "\"18446744073709551616\" is out of range for uint64" },
		{ SUBMIT, "{'request_id': -1}", "request_id", "-1 is out of range for uint64" },
		{ SUBMIT, "{'action': {'decide': {'money_to_recover_vnd': '-9223372036854775809'}}}",
		  "action.decide.money_to_recover_vnd",
		  "-9223372036854775809 is out of range for int64 (-9223372036854775808..9223372036854775807)" },
		{ SUBMIT, "{'action': {'decide': {'money_to_recover_vnd': '9223372036854775808'}}}",
		  "action.decide.money_to_recover_vnd", "9223372036854775808 is out of range for int64" },
		{ ENVELOPE, "{'escalation': {'days_overdue': 2147483648}}", "escalation.days_overdue",
		  "2147483648 is out of range for int32 (-2147483648..2147483647)" },
		{ ENVELOPE, "{'escalation': {'days_overdue': -2147483649}}", "escalation.days_overdue",
		  "-2147483649 is out of range for int32" },
		{ SUBMIT, "{'petition': {'anonymous': 1}}", "petition.anonymous",
		  "expected true or false, got an integer" },
		{ SUBMIT, "{'petition': {'anonymous': 'true'}}", "petition.anonymous",
		  "expected true or false, got a string" },
		{ SUBMIT, "{'petition': {'summary': 12}}", "petition.summary", "expected a string, got an integer" },
		{ SUBMIT, "{'petition': {'summary': {}}}", "petition.summary", "expected a string, got an object" },
		{ SUBMIT, "{'petition': {'summary': 'a\\u0000b'}}", "petition.summary",
		  "string contains NUL (\\u0000) at byte 1" },
		{ SUBMIT, "{'petition': {'also_sent_to': ['a', 3]}}", "petition.also_sent_to[1]",
		  "expected a string, got an integer" },
		{ SUBMIT, "{'petition': {'also_sent_to': 'a'}}", "petition.also_sent_to",
		  "expected an array, got a string" },
		{ SUBMIT, "{'petition': {'petitioners': {}}}", "petition.petitioners",
		  "expected an array, got an object" },
		{ SUBMIT, "{'petition': {'petitioners': [{}, null]}}", "petition.petitioners[1]",
		  "null is not allowed in an array" },
		{ SUBMIT, "{'petition': {'petitioners': [[]]}}", "petition.petitioners[0]",
		  "expected an object (donthu.v1.Person), got an array" },
		{ SUBMIT, "{'petition': {'respondent': 'x'}}", "petition.respondent",
		  "expected an object (donthu.v1.Respondent), got a string" },
		{ SUBMIT, "[1]", "", "expected an object (donthu.v1.SubmitRequest), got an array" },
		{ SUBMIT, "{'petition': {'signer_count': 1, 'signerCount': 2}}", "petition.signerCount",
		  "field signer_count is given twice (as \"signer_count\" and \"signerCount\")" },
		{ SUBMIT, "{'petition': {'signerCount': null, 'signer_count': 2}}", "petition.signer_count",
		  "given twice" },
		{ SUBMIT, "{'petition': {'attachments': [{'sha256': '!!!'}]}}",
		  "petition.attachments[0].sha256", "not base64" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < CM_ARRAY_LEN(cases); i++)
		parse_fails(cases[i].d, cases[i].in, CM_EINVALID, cases[i].path, cases[i].msg);
}

static void test_not_json(void **state)
{
	(void)state;
	parse_fails(SUBMIT, "{'request_id': 1,}", CM_EDECODE, "", "not JSON: line 1, column");
	parse_fails(SUBMIT, "", CM_EDECODE, "", "not JSON");
	parse_fails(SUBMIT, "{} {}", CM_EDECODE, "", "not JSON");
	parse_fails(SUBMIT, "{'request_id': 1, 'request_id': 2}", CM_EDECODE, "", "duplicate");
	parse_fails(SUBMIT, "{'request_id': 18446744073709551615}", CM_EDECODE, "",
		    "write integers above 9223372036854775807 as decimal strings");
	parse_fails(SUBMIT, "{'petition': {'summary': '\xff'}}", CM_EDECODE, "", "not JSON");
	parse_fails(SUBMIT, "42", CM_EDECODE, "", "not JSON");
}

/* Documents built in memory skip jansson's UTF-8 check; we do not. */
static void test_built_documents(void **state)
{
	struct cm_pbjson_err e;
	ProtobufCMessage *m = NULL;
	json_t *doc, *pet;

	(void)state;
	doc = json_object();
	pet = json_object();
	json_object_set_new(pet, "summary", json_stringn_nocheck("ok \xc0\x80", 5));
	json_object_set_new(doc, "petition", pet);
	assert_int_equal(cm_pbjson_parse(SUBMIT, doc, &m, &e), CM_EINVALID);
	assert_null(m);
	assert_string_equal(e.path, "petition.summary");
	assert_string_equal(e.message, "string is not valid UTF-8 at byte 3");
	/* No err is fine too. */
	assert_int_equal(cm_pbjson_parse(SUBMIT, doc, &m, NULL), CM_EINVALID);

	/* Keys with bytes that are not UTF-8 come back mended. */
	json_object_clear(pet);
	json_object_setn_new_nocheck(pet, "x\xff", 2, json_true());
	assert_int_equal(cm_pbjson_parse(SUBMIT, doc, &m, &e), CM_EINVALID);
	assert_string_equal(e.path, "petition.x?");
	assert_string_equal(e.message, "unknown field \"x?\" in donthu.v1.Petition");
	json_decref(doc);

	doc = json_object();
	assert_int_equal(cm_pbjson_parse(NULL, doc, &m, &e), -EINVAL);
	assert_int_equal(cm_pbjson_parse(SUBMIT, NULL, &m, &e), -EINVAL);
	json_decref(doc);
	assert_int_equal(cm_pbjson_parse_text(SUBMIT, NULL, 1, &m, &e), -EINVAL);
	assert_int_equal(cm_pbjson_parse_text(SUBMIT, "{}", 2, NULL, &e), -EINVAL);
	assert_null(cm_pbjson_render(NULL, 0));
}

static void test_error_text_bounded(void **state)
{
	char *in = malloc(2000), *p = in;
	struct cm_pbjson_err e;
	ProtobufCMessage *m = NULL;
	int i;

	(void)state;
	/* A 600-byte key, cut in the middle of a multi-byte character. */
	p += sprintf(p, "{\"petition\": {\"k");
	for (i = 0; i < 200; i++)
		p += sprintf(p, "\xe1\xbb\x87");
	p += sprintf(p, "\": 1}}");
	assert_int_equal(cm_pbjson_parse_text(SUBMIT, in, strlen(in), &m, &e), CM_EINVALID);
	assert_true(strlen(e.path) <= 255);
	assert_true(strncmp(e.path, "petition.k\xe1\xbb\x87", 13) == 0);
	assert_non_null(strstr(e.message, "...\" in donthu.v1.Petition"));
	{
		json_t *j = json_pack("{s:s,s:s}", "path", e.path, "message", e.message);

		assert_non_null(j); /* both are valid UTF-8 */
		json_decref(j);
	}
	free(in);
}

static void test_render_from_wire(void **state)
{
	Donthu__V1__Petition p = DONTHU__V1__PETITION__INIT;
	Donthu__V1__Attachment a = DONTHU__V1__ATTACHMENT__INIT;
	Donthu__V1__Attachment *atts[1] = { &a };
	uint8_t sha[32] = { 0 };
	json_t *j, *want;

	(void)state;
	/* protobuf-c accepts any bytes as a string; render mends them. */
	p.summary = "bad \xff\xfe end";
	p.text = NULL;
	p.kind = (Donthu__V1__PetitionKind)77; /* from a newer peer */
	a.sha256.data = sha;
	a.sha256.len = sizeof(sha);
	a.size = 1;
	p.n_attachments = 1;
	p.attachments = atts;
	j = cm_pbjson_render(&p.base, 0);
	want = load("{'kind': 77, 'summary': 'bad \\ufffd\\ufffd end', 'attachments': [{'sha256': "
		    "'0000000000000000000000000000000000000000000000000000000000000000', 'size': 1}]}");
	assert_json_equal(j, want);
	json_decref(want);
	json_decref(j);

	/* -0.0 is not the default value: the packer sends it, so do we. */
	{
		Donthu__V1__Decide d = DONTHU__V1__DECIDE__INIT;

		d.land_to_return_m2 = -0.0;
		j = cm_pbjson_render(&d.base, 0);
		assert_non_null(json_object_get(j, "land_to_return_m2"));
		assert_true(signbit(json_real_value(json_object_get(j, "land_to_return_m2"))));
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_petition),
		cmocka_unit_test(test_roundtrip_action),
		cmocka_unit_test(test_roundtrip_events),
		cmocka_unit_test(test_camel_case),
		cmocka_unit_test(test_enum_forms),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_big_integers),
		cmocka_unit_test(test_oneof_scalars),
		cmocka_unit_test(test_bytes_forms),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_built_documents),
		cmocka_unit_test(test_error_text_bounded),
		cmocka_unit_test(test_render_from_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
