/*
 * test_routing_rules - routing decisions as a table of scenarios taken from
 * legal-reference.md (§1.3 who decides, §2 denunciations, §3 recommendations
 * and feedback, §4 TT 05/2021 classification and outcomes, §9 the 2025
 * reorganisation), decided by the shipped data/routing/rules.json against the
 * shipped register (Đà Nẵng with the former Quảng Nam). Pure: no store.
 *
 * Also: the rules loader refuses malformed files with a message naming the
 * rule.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "classify.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/register.h"
#include "rules.h"

#define KN DONTHU__V1__PETITION_KIND__PETITION_KIND_COMPLAINT
#define TC DONTHU__V1__PETITION_KIND__PETITION_KIND_DENUNCIATION
#define KNG DONTHU__V1__PETITION_KIND__PETITION_KIND_RECOMMENDATION
#define PA DONTHU__V1__PETITION_KIND__PETITION_KIND_FEEDBACK
#define MIX DONTHU__V1__PETITION_KIND__PETITION_KIND_MIXED

#define R1 DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_FIRST
#define R2 DONTHU__V1__COMPLAINT_ROUND__COMPLAINT_ROUND_SECOND
#define DEC DONTHU__V1__COMPLAINT_SUBJECT__COMPLAINT_SUBJECT_ADMINISTRATIVE_DECISION
#define ACT DONTHU__V1__COMPLAINT_SUBJECT__COMPLAINT_SUBJECT_ADMINISTRATIVE_ACT
#define DISC DONTHU__V1__COMPLAINT_SUBJECT__COMPLAINT_SUBJECT_DISCIPLINARY_DECISION

#define POST DONTHU__V1__CHANNEL__CHANNEL_POST
#define DESK DONTHU__V1__CHANNEL__CHANNEL_IN_PERSON
#define PORTAL DONTHU__V1__CHANNEL__CHANNEL_PORTAL
#define FWD DONTHU__V1__CHANNEL__CHANNEL_FORWARDED

/* petition flags */
#define P_ANON 1u
#define P_VERIF 2u
#define P_UNSIGNED 4u
#define P_HARM 8u
#define P_ATTACH 16u

/* history flags */
#define H_DUP 1u
#define H_SEVERAL 2u
#define H_OPEN 4u
#define H_GUIDED 8u
#define H_FORWARDED 16u
#define H_DECIDED 32u

#define FR(x) DONTHU__V1__FILE_REASON__FILE_REASON_##x
#define FL(x) (1u << DONTHU__V1__FLAG_KIND__FLAG_KIND_##x)

struct scen {
	const char *name;
	int kind, round, subject, channel;
	const char *receiving, *issuing, *managing, *prior, *field, *location, *forwarded_by;
	const char *also[3];
	const char *date; /* received, YYYY-MM-DD; default 2026-03-10 */
	unsigned pflags;
	uint32_t signers, delegation;
	unsigned hist;
	const char *copy; /* a copy reached this body (history) */
	/* expected */
	bool ineligible, split, within, rehomed;
	const char *competent;	/* NULL: no body found */
	enum routing_outcome outcome;
	const char *to;
	int file_reason;
	uint32_t due;
	const char *competence_id, *handling_id, *eligibility_id;
	unsigned flags;
};

static const struct scen scenarios[] = {
	/* --- complaints: who decides (legal-reference §1.3, Luật KN Đ7, Đ17-21) --- */
	{.name = "complaint, first round, at the commune whose decision it is",
	 .kind = KN, .round = R1, .subject = DEC, .channel = POST, .receiving = "UBND-20242",
	 .issuing = "UBND-20242", .within = true, .competent = "UBND-20242", .outcome = RO_ASSIGN,
	 .to = "UBND-20242", .competence_id = "comp.kn.first_round", .handling_id = "h.within"},
	{.name = "complaint against the provincial chairman, received by the reception board",
	 .kind = KN, .round = R1, .subject = DEC, .channel = DESK, .receiving = "DN-BTCD",
	 .issuing = "DN-UBND", .within = true, .competent = "DN-UBND", .outcome = RO_ASSIGN,
	 .to = "DN-UBND", .handling_id = "h.within"},
	{.name = "complaint against another commune: guided once to it",
	 .kind = KN, .round = R1, .subject = ACT, .channel = POST, .receiving = "UBND-20242",
	 .issuing = "UBND-20257", .competent = "UBND-20257", .outcome = RO_GUIDE,
	 .to = "UBND-20257", .handling_id = "h.kn.guide"},
	{.name = "complaint against a department, sent to the province: guided to the department",
	 .kind = KN, .round = R1, .subject = DEC, .channel = POST, .receiving = "DN-UBND",
	 .issuing = "DN-STC", .competent = "DN-STC", .outcome = RO_GUIDE, .to = "DN-STC"},
	{.name = "second complaint against a commune chairman's decision, at the province",
	 .kind = KN, .round = R2, .subject = DEC, .channel = POST, .receiving = "DN-UBND",
	 .issuing = "UBND-20242", .prior = "UBND-20242", .within = true, .competent = "DN-UBND",
	 .outcome = RO_ASSIGN, .to = "DN-UBND", .competence_id = "comp.kn.second_round"},
	{.name = "second complaint sent back to the commune: guided up to the province",
	 .kind = KN, .round = R2, .subject = DEC, .channel = POST, .receiving = "UBND-20242",
	 .issuing = "UBND-20242", .prior = "UBND-20242", .competent = "DN-UBND",
	 .outcome = RO_GUIDE, .to = "DN-UBND"},
	{.name = "second complaint against a department head's decision, at the reception board",
	 .kind = KN, .round = R2, .subject = DEC, .channel = DESK, .receiving = "DN-BTCD",
	 .issuing = "DN-SXD", .prior = "DN-SXD", .within = true, .competent = "DN-UBND",
	 .outcome = RO_ASSIGN, .to = "DN-UBND"},
	{.name = "second complaint against a former district's decision goes to the province",
	 .kind = KN, .round = R2, .subject = DEC, .channel = POST, .receiving = "DN-UBND",
	 .issuing = "UBND-OLD-HAICHAU", .prior = "UBND-OLD-HAICHAU", .within = true,
	 .competent = "DN-UBND", .outcome = RO_ASSIGN, .to = "DN-UBND"},
	{.name = "second complaint against a former Quảng Nam district: superior merged into Đà Nẵng",
	 .kind = KN, .round = R2, .subject = DEC, .channel = POST, .receiving = "DN-UBND",
	 .issuing = "UBND-OLD-NUITHANH", .prior = "UBND-OLD-NUITHANH", .within = true,
	 .rehomed = true, .competent = "DN-UBND", .outcome = RO_ASSIGN, .to = "DN-UBND"},
	{.name = "first complaint against a district that ended: its successor commune decides",
	 .kind = KN, .round = R1, .subject = DEC, .channel = POST, .receiving = "UBND-20242",
	 .issuing = "UBND-OLD-HAICHAU", .within = true, .rehomed = true, .competent = "UBND-20242",
	 .outcome = RO_ASSIGN, .to = "UBND-20242"},
	{.name = "first complaint against the former Quảng Nam province: Đà Nẵng decides",
	 .kind = KN, .round = R1, .subject = DEC, .channel = POST, .receiving = "DN-UBND",
	 .issuing = "QN-UBND", .within = true, .rehomed = true, .competent = "DN-UBND",
	 .outcome = RO_ASSIGN, .to = "DN-UBND"},
	{.name = "complaint before the merger names the district itself",
	 .kind = KN, .round = R1, .subject = DEC, .channel = POST, .receiving = "UBND-OLD-HAICHAU",
	 .issuing = "UBND-OLD-HAICHAU", .date = "2025-05-20", .within = true,
	 .competent = "UBND-OLD-HAICHAU", .outcome = RO_ASSIGN, .to = "UBND-OLD-HAICHAU"},
	{.name = "complaint by post without signature: not eligible, filed",
	 .kind = KN, .round = R1, .subject = DEC, .channel = POST, .receiving = "UBND-20242",
	 .issuing = "UBND-20242", .pflags = P_UNSIGNED, .ineligible = true, .within = true,
	 .competent = "UBND-20242", .outcome = RO_FILE, .file_reason = FR(INELIGIBLE),
	 .handling_id = "h.file.ineligible", .eligibility_id = "elig.unsigned"},
	{.name = "complaint through the portal needs no wet signature",
	 .kind = KN, .round = R1, .subject = DEC, .channel = PORTAL, .receiving = "UBND-20242",
	 .issuing = "UBND-20242", .pflags = P_UNSIGNED, .within = true, .competent = "UBND-20242",
	 .outcome = RO_ASSIGN, .to = "UBND-20242", .eligibility_id = "elig.ok"},
	{.name = "complaint forwarded by a deputy, outside competence: returned to the deputy",
	 .kind = KN, .round = R1, .subject = DEC, .channel = FWD, .receiving = "UBND-20242",
	 .issuing = "DN-SXD", .forwarded_by = "Đoàn ĐBQH thành phố Đà Nẵng", .competent = "DN-SXD",
	 .outcome = RO_RETURN, .to = "Đoàn ĐBQH thành phố Đà Nẵng", .handling_id = "h.kn.return"},
	{.name = "complaint forwarded by the inspectorate, outside competence: guided",
	 .kind = KN, .round = R1, .subject = DEC, .channel = FWD, .receiving = "UBND-20242",
	 .issuing = "DN-SXD", .forwarded_by = "DN-TTR", .competent = "DN-SXD", .outcome = RO_GUIDE,
	 .to = "DN-SXD"},
	{.name = "complaint forwarded by the press, within competence: handled",
	 .kind = KN, .round = R1, .subject = ACT, .channel = FWD, .receiving = "UBND-20242",
	 .issuing = "UBND-20242", .forwarded_by = "Báo Đà Nẵng", .within = true,
	 .competent = "UBND-20242", .outcome = RO_ASSIGN, .to = "UBND-20242"},
	{.name = "complaint already guided once on the same content: filed",
	 .kind = KN, .round = R1, .subject = DEC, .channel = POST, .receiving = "UBND-20242",
	 .issuing = "UBND-20257", .hist = H_DUP | H_GUIDED, .competent = "UBND-20257",
	 .outcome = RO_FILE, .file_reason = FR(DUPLICATE), .handling_id = "h.kn.guide_once"},
	{.name = "complaint already decided with legal effect, nothing new: filed",
	 .kind = KN, .round = R1, .subject = DEC, .channel = POST, .receiving = "UBND-20242",
	 .issuing = "UBND-20242", .hist = H_DUP | H_DECIDED, .within = true,
	 .competent = "UBND-20242", .outcome = RO_FILE, .file_reason = FR(DECIDED_WITH_LEGAL_EFFECT),
	 .handling_id = "h.kn.decided"},
	{.name = "complaint already decided but with new documents: handled again",
	 .kind = KN, .round = R1, .subject = DEC, .channel = POST, .receiving = "UBND-20242",
	 .issuing = "UBND-20242", .pflags = P_ATTACH, .hist = H_DUP | H_DECIDED, .within = true,
	 .competent = "UBND-20242", .outcome = RO_ASSIGN, .to = "UBND-20242"},
	{.name = "repeat of a complaint still being handled: joins that case",
	 .kind = KN, .round = R1, .subject = DEC, .channel = POST, .receiving = "UBND-20242",
	 .issuing = "UBND-20242", .hist = H_DUP | H_OPEN, .within = true, .competent = "UBND-20242",
	 .outcome = RO_FILE, .file_reason = FR(DUPLICATE), .handling_id = "h.repeat.open"},
	{.name = "complaint against a disciplinary decision of the home-affairs department",
	 .kind = KN, .round = R1, .subject = DISC, .channel = POST, .receiving = "DN-SNV",
	 .issuing = "DN-SNV", .within = true, .competent = "DN-SNV", .outcome = RO_ASSIGN,
	 .to = "DN-SNV"},
	{.name = "complaint signed by seven people: many signers",
	 .kind = KN, .round = R1, .subject = DEC, .channel = POST, .receiving = "UBND-20242",
	 .issuing = "UBND-20242", .signers = 7, .within = true, .competent = "UBND-20242",
	 .outcome = RO_ASSIGN, .to = "UBND-20242", .flags = FL(MANY_SIGNERS)},
	{.name = "complaint signed by four people: not many",
	 .kind = KN, .round = R1, .subject = DEC, .channel = POST, .receiving = "UBND-20242",
	 .issuing = "UBND-20242", .signers = 4, .within = true, .competent = "UBND-20242",
	 .outcome = RO_ASSIGN, .to = "UBND-20242"},

	/* --- denunciations (legal-reference §2, Luật TC Đ12-15, 24, 25, 27) --- */
	{.name = "denunciation at the body that manages the person denounced",
	 .kind = TC, .channel = POST, .receiving = "UBND-20209", .managing = "UBND-20209",
	 .within = true, .competent = "UBND-20209", .outcome = RO_ASSIGN, .to = "UBND-20209",
	 .competence_id = "comp.tc.manager"},
	{.name = "denunciation at the inspectorate about a hospital official: forwarded in 5 days",
	 .kind = TC, .channel = POST, .receiving = "DN-TTR", .managing = "DN-SYT",
	 .competent = "DN-SYT", .outcome = RO_FORWARD, .to = "DN-SYT", .due = 5,
	 .handling_id = "h.tc.forward"},
	{.name = "denunciation naming only the body it acted for",
	 .kind = TC, .channel = POST, .receiving = "DN-SCT", .issuing = "DN-SCT", .within = true,
	 .competent = "DN-SCT", .outcome = RO_ASSIGN, .to = "DN-SCT",
	 .competence_id = "comp.tc.issuer"},
	{.name = "denunciation naming no body: the receiving body handles it",
	 .kind = TC, .channel = POST, .receiving = "UBND-20257", .within = true,
	 .competent = "UBND-20257", .outcome = RO_ASSIGN, .to = "UBND-20257",
	 .competence_id = "comp.receiving"},
	{.name = "anonymous denunciation without evidence: not handled, flagged",
	 .kind = TC, .channel = POST, .receiving = "DN-TTR", .managing = "DN-SYT",
	 .pflags = P_ANON | P_UNSIGNED, .ineligible = true, .competent = "DN-SYT",
	 .outcome = RO_FILE, .file_reason = FR(ANONYMOUS), .handling_id = "h.file.anonymous",
	 .eligibility_id = "elig.anonymous_unverifiable", .flags = FL(ANONYMOUS_UNVERIFIABLE)},
	{.name = "anonymous denunciation, clear and verifiable, elsewhere: forwarded",
	 .kind = TC, .channel = POST, .receiving = "DN-TTR", .managing = "DN-SYT",
	 .pflags = P_ANON | P_VERIF | P_UNSIGNED, .competent = "DN-SYT", .outcome = RO_FORWARD,
	 .to = "DN-SYT", .due = 5, .eligibility_id = "elig.anonymous_verifiable"},
	{.name = "anonymous denunciation, clear and verifiable, here: checked here",
	 .kind = TC, .channel = POST, .receiving = "DN-SYT", .managing = "DN-SYT",
	 .pflags = P_ANON | P_VERIF | P_UNSIGNED, .within = true, .competent = "DN-SYT",
	 .outcome = RO_ASSIGN, .to = "DN-SYT"},
	{.name = "denunciation sent also to the competent body: the other body does not process it",
	 .kind = TC, .channel = POST, .receiving = "UBND-20242", .managing = "DN-SXD",
	 .also = {"DN-SXD"}, .competent = "DN-SXD", .outcome = RO_FILE, .file_reason = FR(DUPLICATE),
	 .handling_id = "h.tc.several_bodies", .flags = FL(SENT_TO_SEVERAL_BODIES)},
	{.name = "denunciation sent to several bodies, received by the competent one",
	 .kind = TC, .channel = POST, .receiving = "DN-SXD", .managing = "DN-SXD",
	 .also = {"UBND-20242", "DN-TTR"}, .within = true, .competent = "DN-SXD",
	 .outcome = RO_ASSIGN, .to = "DN-SXD", .flags = FL(SENT_TO_SEVERAL_BODIES)},
	{.name = "denunciation sent to several bodies, none competent: forwarded",
	 .kind = TC, .channel = POST, .receiving = "UBND-20242", .managing = "DN-SXD",
	 .also = {"DN-STP"}, .competent = "DN-SXD", .outcome = RO_FORWARD, .to = "DN-SXD",
	 .due = 5, .flags = FL(SENT_TO_SEVERAL_BODIES)},
	{.name = "same denunciation found earlier at the competent body: not processed here",
	 .kind = TC, .channel = POST, .receiving = "UBND-20242", .managing = "DN-SXD",
	 .hist = H_DUP | H_SEVERAL | H_OPEN, .copy = "DN-SXD", .competent = "DN-SXD",
	 .outcome = RO_FILE, .file_reason = FR(DUPLICATE), .handling_id = "h.tc.several_bodies",
	 .flags = FL(SENT_TO_SEVERAL_BODIES)},
	{.name = "denunciation with the same content already forwarded once: filed",
	 .kind = TC, .channel = POST, .receiving = "UBND-20242", .managing = "DN-SXD",
	 .hist = H_DUP | H_FORWARDED, .competent = "DN-SXD", .outcome = RO_FILE,
	 .file_reason = FR(DUPLICATE), .handling_id = "h.tc.forward_once"},
	{.name = "denunciation signalling imminent serious harm: flagged at once",
	 .kind = TC, .channel = DESK, .receiving = "UBND-20242", .managing = "UBND-20242",
	 .pflags = P_HARM, .within = true, .competent = "UBND-20242", .outcome = RO_ASSIGN,
	 .to = "UBND-20242", .flags = FL(SERIOUS_HARM)},
	{.name = "re-sent denunciation already concluded, nothing new: filed",
	 .kind = TC, .channel = POST, .receiving = "UBND-20242", .managing = "UBND-20242",
	 .hist = H_DUP | H_DECIDED, .within = true, .competent = "UBND-20242", .outcome = RO_FILE,
	 .file_reason = FR(CONCLUDED_NO_NEW_FACTS), .handling_id = "h.tc.concluded"},
	{.name = "denunciation handed in without signature: not eligible",
	 .kind = TC, .channel = DESK, .receiving = "UBND-20242", .managing = "UBND-20242",
	 .pflags = P_UNSIGNED, .ineligible = true, .within = true, .competent = "UBND-20242",
	 .outcome = RO_FILE, .file_reason = FR(INELIGIBLE)},
	{.name = "denunciation of an official of a district that ended: its successor manages",
	 .kind = TC, .channel = POST, .receiving = "UBND-20209", .managing = "UBND-OLD-THANHKHE",
	 .within = true, .rehomed = true, .competent = "UBND-20209", .outcome = RO_ASSIGN,
	 .to = "UBND-20209"},
	{.name = "denunciation by a delegation of twelve: đoàn đông người",
	 .kind = TC, .channel = DESK, .receiving = "UBND-20242", .managing = "UBND-20242",
	 .signers = 12, .delegation = 12, .within = true, .competent = "UBND-20242",
	 .outcome = RO_ASSIGN, .to = "UBND-20242", .flags = FL(MANY_SIGNERS) | FL(DELEGATION)},

	/* --- recommendations and feedback (legal-reference §3) --- */
	{.name = "feedback on local environment sent to the province: forwarded to the commune",
	 .kind = PA, .channel = PORTAL, .receiving = "DN-UBND", .field = "moi-truong",
	 .location = "20242", .competent = "UBND-20242", .outcome = RO_FORWARD,
	 .to = "UBND-20242", .competence_id = "comp.knpa.local", .handling_id = "h.knpa.forward"},
	{.name = "feedback on local environment at its commune: handled",
	 .kind = PA, .channel = PORTAL, .receiving = "UBND-20242", .field = "moi-truong",
	 .location = "20242", .within = true, .competent = "UBND-20242", .outcome = RO_ASSIGN,
	 .to = "UBND-20242"},
	{.name = "recommendation on school fees: forwarded to the education department",
	 .kind = KNG, .channel = POST, .receiving = "DN-UBND", .field = "giao-duc",
	 .location = "20242", .competent = "DN-SGDDT", .outcome = RO_FORWARD, .to = "DN-SGDDT",
	 .competence_id = "comp.knpa.department"},
	{.name = "recommendation on school fees at the education department: handled",
	 .kind = KNG, .channel = POST, .receiving = "DN-SGDDT", .field = "giao-duc",
	 .within = true, .competent = "DN-SGDDT", .outcome = RO_ASSIGN, .to = "DN-SGDDT"},
	{.name = "feedback on a hospital in a former Quảng Nam town: health department",
	 .kind = PA, .channel = PORTAL, .receiving = "UBND-20410", .field = "y-te",
	 .location = "20410", .competent = "DN-SYT", .outcome = RO_FORWARD, .to = "DN-SYT"},
	{.name = "feedback without a field: the commune where it happens",
	 .kind = PA, .channel = PORTAL, .receiving = "DN-UBND", .location = "20257",
	 .competent = "UBND-20257", .outcome = RO_FORWARD, .to = "UBND-20257",
	 .competence_id = "comp.knpa.location"},
	{.name = "feedback without field or place: the receiving body decides",
	 .kind = PA, .channel = PORTAL, .receiving = "DN-TTR", .within = true,
	 .competent = "DN-TTR", .outcome = RO_ASSIGN, .to = "DN-TTR",
	 .competence_id = "comp.receiving"},
	{.name = "feedback on public order: the city police (outside the UBND tree)",
	 .kind = PA, .channel = PORTAL, .receiving = "UBND-20242", .field = "an-ninh-trat-tu",
	 .competent = "DN-CA", .outcome = RO_FORWARD, .to = "DN-CA"},
	{.name = "feedback giving a pre-2025 ward: its successor commune",
	 .kind = PA, .channel = PORTAL, .receiving = "DN-UBND", .field = "moi-truong",
	 .location = "OLD-HAICHAU-PHUONG-THANHBINH", .competent = "UBND-20242",
	 .outcome = RO_FORWARD, .to = "UBND-20242"},
	{.name = "feedback already answered, nothing new: filed",
	 .kind = PA, .channel = PORTAL, .receiving = "UBND-20242", .field = "moi-truong",
	 .location = "20242", .hist = H_DUP | H_DECIDED, .within = true, .competent = "UBND-20242",
	 .outcome = RO_FILE, .file_reason = FR(DUPLICATE), .handling_id = "h.knpa.answered"},
	{.name = "feedback by a delegation of twelve at reception",
	 .kind = PA, .channel = DESK, .receiving = "UBND-20242", .field = "moi-truong",
	 .location = "20242", .signers = 12, .delegation = 12, .within = true,
	 .competent = "UBND-20242", .outcome = RO_ASSIGN, .to = "UBND-20242",
	 .flags = FL(MANY_SIGNERS) | FL(DELEGATION)},
	{.name = "three people at reception are not a delegation",
	 .kind = PA, .channel = DESK, .receiving = "UBND-20242", .field = "moi-truong",
	 .location = "20242", .signers = 3, .delegation = 3, .within = true,
	 .competent = "UBND-20242", .outcome = RO_ASSIGN, .to = "UBND-20242"},
	{.name = "feedback the same person keeps sending while it is handled: repeat",
	 .kind = PA, .channel = PORTAL, .receiving = "UBND-20242", .field = "moi-truong",
	 .location = "20242", .hist = H_DUP | H_OPEN, .within = true, .competent = "UBND-20242",
	 .outcome = RO_FILE, .file_reason = FR(DUPLICATE), .handling_id = "h.repeat.open"},
	{.name = "anonymous feedback without a basis to verify: filed (no flag: not a denunciation)",
	 .kind = PA, .channel = PORTAL, .receiving = "UBND-20242", .field = "moi-truong",
	 .location = "20242", .pflags = P_ANON, .ineligible = true, .within = true,
	 .competent = "UBND-20242", .outcome = RO_FILE, .file_reason = FR(ANONYMOUS)},

	/* --- mixed content (TT 05/2021 Đ6 k1; Luật TCD Đ25 k3) --- */
	{.name = "petition mixing a complaint and a denunciation: advise to split",
	 .kind = MIX, .channel = POST, .receiving = "UBND-20242", .issuing = "UBND-20242",
	 .split = true, .within = true, .competent = "UBND-20242", .outcome = RO_ASSIGN,
	 .to = "UBND-20242", .handling_id = "h.mixed.split", .eligibility_id = "elig.mixed"},
	{.name = "mixed petition received by the province is still split at the receiving body",
	 .kind = MIX, .channel = POST, .receiving = "DN-UBND", .split = true, .within = true,
	 .competent = "DN-UBND", .outcome = RO_ASSIGN, .to = "DN-UBND"},
};

static struct cm_register *reg;
static struct routing_rules *rules;
static struct routing_fieldmap *fm;

static int setup(void **state)
{
	char err[512];

	(void)state;
	if (cm_register_load(DONTHU_DATA_DIR "/register", &reg, err, sizeof(err)) != 0) {
		fprintf(stderr, "register: %s\n", err);
		return -1;
	}
	if (routing_rules_load(DONTHU_DATA_DIR "/routing/rules.json", &rules, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, "rules: %s\n", err);
		return -1;
	}
	fm = routing_fieldmap_build(reg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	routing_fieldmap_free(&fm);
	routing_rules_free(&rules);
	cm_register_free(&reg);
	return 0;
}

static const char *outcome_name(enum routing_outcome o)
{
	static const char *const n[] = {"none", "assign", "guide", "forward", "return", "file"};
	return (unsigned)o < CM_ARRAY_LEN(n) ? n[o] : "?";
}

static int check(const struct scen *s, const struct routing_decision *d)
{
	int bad = 0;
	unsigned got_flags = 0;

#define EXPECT(cond, ...)                                                  \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "  [%s] ", s->name);               \
			fprintf(stderr, __VA_ARGS__);                      \
			fprintf(stderr, "\n");                             \
			bad++;                                             \
		}                                                          \
	} while (0)

	EXPECT(d->eligible == !s->ineligible, "eligible %d", d->eligible);
	EXPECT(d->split_advised == s->split, "split_advised %d", d->split_advised);
	EXPECT(d->within_competence == s->within, "within_competence %d", d->within_competence);
	EXPECT(d->rehomed == s->rehomed, "rehomed %d", d->rehomed);
	if (s->competent)
		EXPECT(d->competent && strcmp(d->competent->code, s->competent) == 0,
		       "competent %s, expected %s", d->competent ? d->competent->code : "(none)",
		       s->competent);
	else
		EXPECT(!d->competent, "competent %s, expected none", d->competent->code);
	EXPECT(d->outcome == s->outcome, "outcome %s, expected %s", outcome_name(d->outcome),
	       outcome_name(s->outcome));
	if (s->to)
		EXPECT(d->to && strcmp(d->to, s->to) == 0, "to %s, expected %s",
		       d->to ? d->to : "(none)", s->to);
	if (s->outcome == RO_FILE)
		EXPECT((int)d->file_reason == s->file_reason, "file_reason %d, expected %d",
		       d->file_reason, s->file_reason);
	EXPECT(d->due_working_days == s->due, "due %u, expected %u", d->due_working_days, s->due);
	if (s->competence_id)
		EXPECT(strcmp(d->competence->id, s->competence_id) == 0, "competence rule %s",
		       d->competence->id);
	if (s->handling_id)
		EXPECT(strcmp(d->handling->id, s->handling_id) == 0, "handling rule %s",
		       d->handling->id);
	if (s->eligibility_id)
		EXPECT(strcmp(d->eligibility->id, s->eligibility_id) == 0, "eligibility rule %s",
		       d->eligibility->id);
	/* Every decision explains itself. */
	EXPECT(d->eligibility && *d->eligibility->basis && d->competence &&
		       *d->competence->basis && d->handling && *d->handling->basis,
	       "a rule without a legal basis");
	for (size_t i = 0; i < d->nflags; i++) {
		got_flags |= 1u << d->flags[i].kind;
		EXPECT(d->flags[i].rule && *d->flags[i].rule->basis, "flag without basis");
	}
	EXPECT(got_flags == s->flags, "flags %#x, expected %#x", got_flags, s->flags);
#undef EXPECT
	return bad;
}

static void test_scenarios(void **state)
{
	size_t failed = 0;

	(void)state;
	assert_true(CM_ARRAY_LEN(scenarios) >= 40);
	for (size_t i = 0; i < CM_ARRAY_LEN(scenarios); i++) {
		const struct scen *s = &scenarios[i];
		Donthu__V1__Petition p = DONTHU__V1__PETITION__INIT;
		Donthu__V1__Respondent resp = DONTHU__V1__RESPONDENT__INIT;
		Donthu__V1__PriorDecision prior = DONTHU__V1__PRIOR_DECISION__INIT;
		Donthu__V1__Attachment att = DONTHU__V1__ATTACHMENT__INIT;
		Donthu__V1__Attachment *atts[1] = {&att};
		char *also[3];
		struct routing_history h = {0};
		const char *copies[1];
		struct routing_decision d;
		cm_day_t day;

		assert_int_equal(cm_day_parse(s->date ? s->date : "2026-03-10", &day), 0);
		p.kind = (Donthu__V1__PetitionKind)s->kind;
		p.round = (Donthu__V1__ComplaintRound)s->round;
		p.complaint_subject = (Donthu__V1__ComplaintSubject)s->subject;
		p.channel = (Donthu__V1__Channel)s->channel;
		p.received_at_ms = cm_day_start_ms(day) + 9 * 3600 * 1000;
		p.receiving_agency = (char *)s->receiving;
		p.signer_count = s->signers ? s->signers : 1;
		p.delegation_size = s->delegation;
		p.signed_ = !(s->pflags & P_UNSIGNED);
		p.anonymous = s->pflags & P_ANON;
		p.anonymous_verifiable = s->pflags & P_VERIF;
		p.serious_harm = s->pflags & P_HARM;
		p.summary = "nội dung";
		if (s->pflags & P_ATTACH) {
			p.n_attachments = 1;
			p.attachments = atts;
		}
		if (s->issuing || s->managing) {
			resp.name = "người bị khiếu nại";
			resp.issuing_agency = (char *)(s->issuing ? s->issuing : "");
			resp.managing_agency = (char *)(s->managing ? s->managing : "");
			p.respondent = &resp;
		}
		if (s->prior) {
			prior.number = "12/QĐ";
			prior.date = "2025-05-01";
			prior.issuing_agency = (char *)s->prior;
			p.prior_decision = &prior;
		}
		p.field = (char *)(s->field ? s->field : "");
		p.location_unit = (char *)(s->location ? s->location : "");
		p.forwarded_by = (char *)(s->forwarded_by ? s->forwarded_by : "");
		for (size_t k = 0; k < 3 && s->also[k]; k++)
			also[p.n_also_sent_to++] = (char *)s->also[k];
		p.also_sent_to = also;
		h.duplicate = s->hist & H_DUP;
		h.several_bodies = s->hist & H_SEVERAL;
		h.group_open = s->hist & H_OPEN;
		h.group_guided = s->hist & H_GUIDED;
		h.group_forwarded = s->hist & H_FORWARDED;
		h.group_decided_in_effect = s->hist & H_DECIDED;
		if (s->copy) {
			copies[0] = s->copy;
			h.copies = copies;
			h.ncopies = 1;
		}
		routing_decide(rules, reg, fm, &p, &h, &d);
		if (check(s, &d)) {
			fprintf(stderr, "FAILED scenario %zu: %s\n", i, s->name);
			failed++;
		}
	}
	printf("%zu routing scenarios, %zu failed\n", CM_ARRAY_LEN(scenarios), failed);
	assert_int_equal(failed, 0);
}

/* ------------------------------------------------------- the loader --- */

static void test_shipped_rules(void **state)
{
	(void)state;
	assert_non_null(rules->version);
	assert_true(rules->count[RS_ELIGIBILITY] > 0 && rules->count[RS_HANDLING] > 0);
	for (size_t i = 0; i < rules->nrules; i++) {
		assert_non_null(rules->rules[i].id);
		assert_true(strlen(rules->rules[i].basis) > 5);
	}
	for (int a = 0; a < RA_COUNT; a++)
		assert_non_null(rules->action[a]);
	assert_int_equal(strlen(rules->sha256), 64);
}

static const char *minimal =
	"{\"format\":1,\"version\":\"t\",\"thresholds\":{\"many_signers\":5,\"delegation\":5,"
	"\"several_bodies_window_days\":30,\"legal_effect_days\":30},\"receiving_on_behalf\":[],"
	"\"local_fields\":[],\"dedup\":{\"threshold\":0.5,\"max_pseudonyms\":4,\"stopwords\":[],"
	"\"synonyms\":[]},"
	"\"eligibility\":[{\"id\":\"e\",\"eligible\":true,\"basis\":\"b\"}],"
	"\"competence\":[{\"id\":\"c\",\"competent\":\"receiving_agency\",\"basis\":\"b\"}],"
	"\"handling\":[%s{\"id\":\"h\",\"outcome\":\"assign\",\"basis\":\"b\"}],"
	"\"flags\":[{\"id\":\"f\",\"flag\":\"serious_harm\",\"when\":{\"serious_harm\":true},"
	"\"basis\":\"b\"}],"
	"\"actions\":[{\"id\":\"a1\",\"action\":\"reassign\",\"basis\":\"b\"},"
	"{\"id\":\"a2\",\"action\":\"guide\",\"basis\":\"b\"},"
	"{\"id\":\"a3\",\"action\":\"forward\",\"basis\":\"b\"},"
	"{\"id\":\"a4\",\"action\":\"give_back\",\"basis\":\"b\"},"
	"{\"id\":\"a5\",\"action\":\"file_away\",\"basis\":\"b\"},"
	"{\"id\":\"a6\",\"action\":\"rehome\",\"basis\":\"b\"},"
	"{\"id\":\"a7\",\"action\":\"link_repeat\",\"basis\":\"b\"},"
	"{\"id\":\"a8\",\"action\":\"link_several_bodies\",\"basis\":\"b\"},"
	"{\"id\":\"a9\",\"action\":\"link_transferred\",\"basis\":\"b\"}]}";

static int parse_with(const char *extra_rule, char *err, size_t errlen)
{
	char doc[8192];
	struct routing_rules *r = NULL;
	int rc;

	snprintf(doc, sizeof(doc), minimal, extra_rule);
	rc = routing_rules_parse(doc, strlen(doc), "test.json", &r, err, errlen);
	routing_rules_free(&r);
	return rc;
}

static void test_loader_errors(void **state)
{
	char err[512];
	struct routing_rules *r = NULL;

	(void)state;
	assert_int_equal(parse_with("", err, sizeof(err)), 0);
	assert_int_equal(parse_with("{\"id\":\"x\",\"outcome\":\"file\",\"file_reason\":\"duplicate\","
				    "\"when\":{\"duplicate\":true},\"basis\":\"b\"},",
				    err, sizeof(err)),
			 0);

	assert_int_equal(parse_with("{\"id\":\"x\",\"outcome\":\"assign\",\"when\":{\"colour\":true},"
				    "\"basis\":\"b\"},",
				    err, sizeof(err)),
			 CM_ECONFIG);
	assert_non_null(strstr(err, "handling[0] \"x\""));
	assert_non_null(strstr(err, "unknown condition \"colour\""));

	assert_int_equal(parse_with("{\"id\":\"h\",\"outcome\":\"assign\",\"basis\":\"b\"},", err,
				    sizeof(err)),
			 CM_ECONFIG);
	assert_non_null(strstr(err, "id already used"));

	assert_int_equal(parse_with("{\"id\":\"x\",\"outcome\":\"teleport\",\"basis\":\"b\"},", err,
				    sizeof(err)),
			 CM_ECONFIG);
	assert_non_null(strstr(err, "unknown outcome \"teleport\""));

	assert_int_equal(parse_with("{\"id\":\"x\",\"outcome\":\"file\",\"basis\":\"b\"},", err,
				    sizeof(err)),
			 CM_ECONFIG);
	assert_non_null(strstr(err, "file_reason"));

	assert_int_equal(parse_with("{\"id\":\"x\",\"outcome\":\"assign\"},", err, sizeof(err)),
			 CM_ECONFIG);
	assert_non_null(strstr(err, "\"basis\" is required"));

	assert_int_equal(parse_with("{\"id\":\"x\",\"outcome\":\"forward\",\"due_working_days\":-1,"
				    "\"basis\":\"b\"},",
				    err, sizeof(err)),
			 CM_ECONFIG);

	{
		const char *doc = "{\"format\":1}";
		assert_int_equal(routing_rules_parse(doc, strlen(doc), "t.json", &r, err, sizeof(err)),
				 CM_ECONFIG);
		assert_null(r);
	}
	/* A final rule with conditions would leave some petitions undecided. */
	{
		char doc[8192], *p;
		snprintf(doc, sizeof(doc), minimal, "");
		p = strstr(doc, "{\"id\":\"h\",\"outcome\":\"assign\",\"basis\":\"b\"}");
		assert_non_null(p);
		{
			char tail[4096];
			snprintf(tail, sizeof(tail), "%s",
				 p + strlen("{\"id\":\"h\",\"outcome\":\"assign\",\"basis\":\"b\"}"));
			snprintf(p, sizeof(doc) - (size_t)(p - doc),
				 "{\"id\":\"h\",\"when\":{\"anonymous\":true},\"outcome\":\"assign\","
				 "\"basis\":\"b\"}%s",
				 tail);
		}
		assert_int_equal(routing_rules_parse(doc, strlen(doc), "t.json", &r, err, sizeof(err)),
				 CM_ECONFIG);
		assert_non_null(strstr(err, "must have no conditions"));
	}
	/* Not JSON at all: the position is named. */
	assert_int_equal(routing_rules_parse("{\"format\":", 10, "t.json", &r, err, sizeof(err)),
			 CM_ECONFIG);
	assert_non_null(strstr(err, "line 1"));
	/* A file that is not there. */
	assert_true(routing_rules_load("/nonexistent/rules.json", &r, err, sizeof(err)) == -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_shipped_rules),
		cmocka_unit_test(test_loader_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
