#include "routing_corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "common/mem.h"

/* Six bodies, four matters each: the matters about one body share its
 * vocabulary (land, building, the ward's name), which is what makes telling
 * a repeat from a new matter hard. {N} {M} {S} {D} are filled per person. */
struct matter {
	unsigned respondent;
	const char *summary;
	const char *text;
};

static const char *const respondents[] = {
	"Ủy ban nhân dân phường Hải Châu",
	"Sở Xây dựng thành phố Đà Nẵng",
	"Ông Nguyễn Văn Hùng, cán bộ địa chính xã Hòa Vang",
	"Trường Trung học cơ sở Nguyễn Huệ",
	"Bệnh viện Đa khoa khu vực Quảng Nam",
	"Công ty Môi trường đô thị Hội An",
};

static const struct matter matters[] = {
	{0, "Khiếu nại quyết định thu hồi đất và mức bồi thường",
	 "Gia đình tôi nhận được quyết định thu hồi đất số {N}/QĐ-UBND ngày {D} đối với thửa đất số {M}, "
	 "tờ bản đồ số 7. Mức bồi thường {N} triệu đồng thấp hơn nhiều so với giá thị trường. Gia đình "
	 "tôi đã sinh sống ổn định trên thửa đất này hơn ba mươi năm, có đóng thuế đầy đủ. Đề nghị Ủy "
	 "ban nhân dân phường xem xét lại giá bồi thường và bố trí tái định cư cho gia đình tôi."},
	{0, "Phản ánh xây dựng nhà không có giấy phép lấn chiếm vỉa hè",
	 "Hộ ông Trần Văn Bình tại số {M} đường {S} đang xây dựng nhà ba tầng không có giấy phép. Công "
	 "trình lấn chiếm vỉa hè khoảng hai mét và gây nứt tường nhà tôi ở bên cạnh. Tôi đã báo tổ dân "
	 "phố từ ngày {D} nhưng chưa được xử lý. Đề nghị Ủy ban nhân dân phường kiểm tra và xử lý vi "
	 "phạm trật tự xây dựng."},
	{0, "Kiến nghị nạo vét cống thoát nước gây ngập",
	 "Tuyến cống thoát nước trên đường {S} bị tắc nghẽn nhiều tháng nay. Mỗi khi mưa lớn khu dân cư "
	 "tổ {M} bị ngập sâu, nước bẩn tràn vào nhà dân gây ô nhiễm và mùi hôi. Người già và trẻ em đi "
	 "lại rất khó khăn. Kiến nghị Ủy ban nhân dân phường sớm nạo vét, sửa chữa cống để chống ngập."},
	{0, "Khiếu nại chậm cấp giấy chứng nhận quyền sử dụng đất",
	 "Tôi nộp hồ sơ đề nghị cấp giấy chứng nhận quyền sử dụng đất cho thửa đất số {M} từ ngày {D}. "
	 "Đến nay đã quá thời hạn giải quyết mà bộ phận một cửa không có văn bản trả lời. Mỗi lần đến hỏi "
	 "đều được hẹn lại mà không nêu lý do. Đề nghị Ủy ban nhân dân phường chỉ đạo giải quyết hồ sơ "
	 "đúng hạn."},

	{1, "Khiếu nại quyết định xử phạt vi phạm hành chính về xây dựng",
	 "Ngày {D} Thanh tra Sở Xây dựng ban hành quyết định xử phạt số {N}/QĐ-XPVPHC đối với công trình "
	 "nhà ở của tôi tại số {M} đường {S} với số tiền {N} triệu đồng. Công trình đã được cấp giấy "
	 "phép và xây đúng thiết kế được duyệt. Biên bản vi phạm ghi sai diện tích xây dựng. Đề nghị hủy "
	 "quyết định xử phạt nói trên."},
	{1, "Phản ánh công trình chung cư thi công gây lún nứt nhà dân",
	 "Công trình chung cư cao tầng tại lô {M} đường {S} thi công đóng cọc cả ban đêm. Nhiều nhà dân "
	 "xung quanh bị lún nứt, sập trần, tiếng ồn vượt mức cho phép. Chủ đầu tư chưa bồi thường thiệt "
	 "hại cho các hộ dân. Đề nghị Sở Xây dựng kiểm tra an toàn thi công và buộc chủ đầu tư khắc phục."},
	{1, "Kiến nghị điều chỉnh quy hoạch tuyến đường đi qua khu dân cư",
	 "Theo bản đồ quy hoạch mới công bố, tuyến đường rộng ba mươi mét đi qua khu dân cư tổ {M} làm "
	 "ảnh hưởng hơn hai trăm hộ dân đã sinh sống lâu năm. Trong khi đó bên cạnh có khu đất trống "
	 "của nhà nước. Kiến nghị Sở Xây dựng nghiên cứu điều chỉnh hướng tuyến để hạn chế giải tỏa."},
	{1, "Khiếu nại việc từ chối cấp giấy phép xây dựng",
	 "Tôi nộp hồ sơ xin giấy phép xây dựng nhà ở riêng lẻ tại thửa đất số {M} ngày {D}. Sở Xây dựng "
	 "có văn bản từ chối với lý do thửa đất nằm trong quy hoạch cây xanh, nhưng quy hoạch này đã hết "
	 "hiệu lực. Đề nghị Sở Xây dựng xem xét lại và cấp giấy phép xây dựng cho gia đình tôi."},

	{2, "Tố cáo cán bộ địa chính nhận tiền khi làm hồ sơ đất",
	 "Ông Nguyễn Văn Hùng, cán bộ địa chính xã, yêu cầu gia đình tôi nộp {N} triệu đồng tiền bồi "
	 "dưỡng thì mới nhận hồ sơ chuyển mục đích sử dụng đất. Việc đưa tiền diễn ra tại nhà riêng của "
	 "ông Hùng ngày {D}, có người làm chứng. Đề nghị cơ quan có thẩm quyền xác minh và xử lý nghiêm "
	 "hành vi nhận tiền trái quy định."},
	{2, "Tố cáo cán bộ địa chính làm sai lệch hồ sơ đo đạc",
	 "Khi đo đạc lại thửa đất số {M}, ông Nguyễn Văn Hùng đã ký xác nhận bản vẽ ranh giới sai với hiện "
	 "trạng, chuyển một phần diện tích của gia đình tôi sang thửa đất của hộ bên cạnh là người thân "
	 "của ông. Các hộ giáp ranh không được mời ký biên bản. Đề nghị kiểm tra lại hồ sơ đo đạc."},
	{2, "Tố cáo cán bộ địa chính gây khó khăn khi giải quyết tranh chấp",
	 "Trong buổi hòa giải tranh chấp lối đi chung tại thôn {M}, ông Nguyễn Văn Hùng có lời lẽ xúc "
	 "phạm, đe dọa người dân và cố tình trì hoãn việc lập biên bản. Đã ba lần hẹn nhưng ông không "
	 "đến. Đề nghị xem xét trách nhiệm của ông Hùng và tổ chức hòa giải lại."},
	{2, "Tố cáo cán bộ địa chính bao che khai thác cát trái phép",
	 "Nhiều đêm liền có ghe khai thác cát trái phép trên sông Yên đoạn qua thôn {M}. Người dân báo "
	 "cho ông Nguyễn Văn Hùng nhưng ông không lập biên bản, còn báo trước cho các chủ ghe tránh "
	 "kiểm tra. Bờ sông bị sạt lở nặng. Đề nghị xử lý ông Hùng và ngăn chặn khai thác cát."},

	{3, "Phản ánh nhà trường thu các khoản ngoài quy định",
	 "Đầu năm học nhà trường thu của mỗi học sinh lớp {M} các khoản quỹ lớp, tiền máy lạnh, tiền vệ "
	 "sinh với tổng số {N} nghìn đồng, không có biên lai. Nhiều gia đình khó khăn không có tiền nộp. "
	 "Đề nghị kiểm tra việc thu chi của nhà trường và trả lại các khoản thu sai."},
	{3, "Phản ánh giáo viên dạy thêm ép học sinh đi học",
	 "Cô giáo chủ nhiệm lớp {M} tổ chức dạy thêm tại nhà và gợi ý học sinh phải đi học mới được điểm "
	 "cao. Học sinh không đi học thêm bị gọi lên bảng nhiều lần và bị nhắc nhở trước lớp. Phụ huynh "
	 "rất bức xúc. Đề nghị chấn chỉnh việc dạy thêm học thêm trái quy định."},
	{3, "Kiến nghị sửa chữa phòng học xuống cấp",
	 "Dãy phòng học số {M} của trường đã xuống cấp nghiêm trọng, trần nhà bong tróc, tường nứt, mái "
	 "dột khi mưa. Học sinh phải học trong điều kiện không an toàn. Kiến nghị nhà trường và cơ quan "
	 "quản lý sớm bố trí kinh phí sửa chữa trước mùa mưa bão."},
	{3, "Khiếu nại việc không xét học bổng cho con tôi",
	 "Con tôi học lớp {M}, là học sinh thuộc hộ nghèo có giấy xác nhận của xã, học lực giỏi nhưng "
	 "không được xét học bổng năm học này. Danh sách học bổng không được công khai. Đề nghị nhà "
	 "trường xem xét lại và công khai tiêu chí xét học bổng."},

	{4, "Phản ánh thái độ phục vụ của nhân viên y tế",
	 "Ngày {D} tôi đưa mẹ đến khoa cấp cứu, nhân viên trực có thái độ cáu gắt, để bệnh nhân chờ hơn "
	 "hai giờ mới khám. Khi người nhà hỏi thì bị quát mắng. Đề nghị bệnh viện chấn chỉnh tinh thần "
	 "thái độ phục vụ người bệnh."},
	{4, "Khiếu nại bệnh viện thu viện phí sai",
	 "Mẹ tôi điều trị nội trú tại khoa nội {M} ngày, có thẻ bảo hiểm y tế đúng tuyến. Khi ra viện "
	 "bệnh viện thu thêm {N} nghìn đồng tiền thuốc và vật tư ngoài danh mục mà không giải thích. "
	 "Đề nghị bệnh viện kiểm tra và hoàn trả số tiền thu sai."},
	{4, "Kiến nghị bổ sung thuốc cho bệnh nhân chạy thận",
	 "Bệnh nhân chạy thận nhân tạo tại bệnh viện nhiều tuần nay phải tự mua thuốc bên ngoài vì khoa "
	 "dược hết thuốc. Chi phí mỗi tháng hơn {N} nghìn đồng rất nặng đối với người bệnh nghèo. Kiến "
	 "nghị bệnh viện sớm bổ sung thuốc theo danh mục bảo hiểm."},
	{4, "Phản ánh bệnh viện xả nước thải chưa xử lý",
	 "Đường ống nước thải của bệnh viện chảy thẳng ra mương thoát nước khu dân cư tổ {M}, có mùi hôi "
	 "nồng nặc và màu đục. Người dân lo ngại nguy cơ lây nhiễm bệnh. Đề nghị kiểm tra hệ thống xử lý "
	 "nước thải của bệnh viện."},

	{5, "Phản ánh thu gom rác không đúng giờ",
	 "Xe thu gom rác của công ty thường đến tổ {M} đường {S} sau mười giờ đêm, rác để ngoài đường cả "
	 "ngày bốc mùi, chó mèo bới tung. Nhiều hôm xe không đến. Đề nghị công ty thu gom rác đúng giờ "
	 "theo lịch đã thông báo."},
	{5, "Khiếu nại việc thu phí vệ sinh trùng lặp",
	 "Gia đình tôi kinh doanh nhà trọ tại số {M} đường {S}, đã nộp phí vệ sinh theo hợp đồng nhưng "
	 "công ty vẫn thu thêm phí theo từng phòng với số tiền {N} nghìn đồng mỗi tháng. Đề nghị công ty "
	 "xem xét lại cách tính phí và hoàn trả khoản thu trùng."},
	{5, "Kiến nghị di dời điểm tập kết rác",
	 "Điểm tập kết rác tạm thời đặt ngay trước cổng chợ {S}, nước rỉ rác chảy ra mặt đường, ruồi "
	 "nhặng nhiều, ảnh hưởng đến các hộ kinh doanh ăn uống. Kiến nghị di dời điểm tập kết rác đến vị "
	 "trí phù hợp, xa khu dân cư."},
	{5, "Phản ánh công nhân vệ sinh đốt rác gây khói",
	 "Công nhân của công ty thường gom lá cây và rác đốt ngay tại vỉa hè đường {S} vào buổi sáng, "
	 "khói bay vào nhà dân và trường mẫu giáo tổ {M}. Trẻ em bị ho nhiều. Đề nghị chấm dứt việc đốt "
	 "rác ngoài trời."},
};

#define NMATTERS (sizeof(matters) / sizeof(matters[0]))

static const char *const streets[] = {"Lê Duẩn", "Hoàng Diệu", "Nguyễn Văn Linh", "Trần Phú",
				       "Hùng Vương", "Phan Châu Trinh", "Ông Ích Khiêm",
				       "Nguyễn Tri Phương"};

/* Synonym pairs the generator uses. The first ones are also in
 * data/routing/rules.json; the last ones are not, as real writers use
 * words nobody listed. */
static const char *const synonyms[][2] = {
	{"Ủy ban nhân dân", "UBND"},
	{"bồi thường", "đền bù"},
	{"cán bộ", "công chức"},
	{"Đề nghị", "Yêu cầu"},
	{"giấy chứng nhận quyền sử dụng đất", "sổ đỏ"},
	{"không có giấy phép", "trái phép"},
	{"trả lời", "phản hồi"},
	{"nhà trường", "trường"},
	{"rác", "rác thải"},
	{"bệnh viện", "viện"},
	{"kiểm tra", "xem xét"},
	{"kinh phí", "tiền"},
	{"gia đình tôi", "nhà tôi"},
	{"mưa lớn", "mưa to"},
	{"Đến nay", "Tới nay"},
	{"hồ sơ", "giấy tờ"},
	{"khu dân cư", "khu phố"},
	{"rất", "hết sức"},
};

static const char *const extra_sentences[] = {
	"Tôi đã gửi đơn nhiều lần nhưng chưa nhận được trả lời.",
	"Kính mong các cơ quan có thẩm quyền sớm quan tâm giải quyết.",
	"Tôi xin cam đoan những nội dung trình bày là đúng sự thật.",
	"Kèm theo đơn là bản sao các giấy tờ có liên quan.",
};

/* ----------------------------------------------------------- helpers --- */

static uint64_t next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static unsigned pick(uint64_t *s, unsigned n)
{
	return (unsigned)(next(s) % n);
}

/* Replace every occurrence of a by b in s (s is freed). */
static char *replace_all(char *s, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = 0;
	char *p, *out, *w;

	for (p = strstr(s, a); p; p = strstr(p + la, a))
		n++;
	if (!n)
		return s;
	out = cm_xmalloc(strlen(s) + n * lb + 1);
	w = out;
	for (p = s;;) {
		char *q = strstr(p, a);
		if (!q) {
			strcpy(w, p);
			break;
		}
		memcpy(w, p, (size_t)(q - p));
		w += q - p;
		memcpy(w, b, lb);
		w += lb;
		p = q + la;
	}
	free(s);
	return out;
}

static char *render(const char *tmpl, uint32_t person, uint32_t matter)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)person << 20) ^ matter;
	char n[16], m[16], d[16];
	char *out = cm_xstrdup(tmpl);

	next(&s);
	snprintf(n, sizeof(n), "%u", 100 + pick(&s, 900));
	snprintf(m, sizeof(m), "%u", 1 + pick(&s, 60));
	snprintf(d, sizeof(d), "%u/%u/2025", 1 + pick(&s, 28), 1 + pick(&s, 12));
	out = replace_all(out, "{N}", n);
	out = replace_all(out, "{M}", m);
	out = replace_all(out, "{D}", d);
	out = replace_all(out, "{S}", streets[pick(&s, CM_ARRAY_LEN(streets))]);
	return out;
}

static utf8proc_int32_t strip_d(utf8proc_int32_t cp, void *data)
{
	(void)data;
	if (cp == 0x111)
		return 'd';
	if (cp == 0x110)
		return 'D';
	return cp;
}

/* What a writer without a Vietnamese keyboard types: no marks, case kept. */
static char *no_diacritics(char *s)
{
	utf8proc_uint8_t *out = NULL;
	utf8proc_ssize_t rc = utf8proc_map_custom((const utf8proc_uint8_t *)s, 0, &out,
						  UTF8PROC_NULLTERM | UTF8PROC_COMPOSE |
							  UTF8PROC_STRIPMARK,
						  strip_d, NULL);

	cm_require(rc >= 0);
	free(s);
	return (char *)out;
}

static int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char *typos(char *s, uint64_t *r, unsigned count)
{
	size_t len = strlen(s);

	for (unsigned t = 0; t < count && len > 4; t++) {
		size_t i = 1 + next(r) % (len - 3);
		unsigned op = pick(r, 3);

		if (!is_letter(s[i]) || !is_letter(s[i + 1]))
			continue;
		if (op == 0) { /* swap two letters */
			char c = s[i];
			s[i] = s[i + 1];
			s[i + 1] = c;
		} else if (op == 1) { /* drop one */
			memmove(s + i, s + i + 1, len - i);
			len--;
		} else { /* double one */
			s = cm_xrealloc(s, len + 2);
			memmove(s + i + 1, s + i, len - i + 1);
			len++;
		}
	}
	return s;
}

static char *synonymise(char *s, uint64_t *r)
{
	for (size_t i = 0; i < CM_ARRAY_LEN(synonyms); i++) {
		if (pick(r, 10) < 3)
			continue;
		if (strstr(s, synonyms[i][0]))
			s = replace_all(s, synonyms[i][0], synonyms[i][1]);
		else if (strstr(s, synonyms[i][1]))
			s = replace_all(s, synonyms[i][1], synonyms[i][0]);
	}
	return s;
}

/* Sentences shuffled, and in each sentence the first two clauses swapped
 * now and then. */
static char *reorder(char *s, uint64_t *r)
{
	char *sent[32];
	size_t n = 0, len = strlen(s);
	char *out = cm_xmalloc(len + 64), *w = out;

	for (char *p = strtok(s, "."); p && n < 32; p = strtok(NULL, ".")) {
		while (*p == ' ')
			p++;
		if (*p)
			sent[n++] = p;
	}
	for (size_t i = n; i > 1; i--) {
		size_t k = next(r) % i;
		char *t = sent[i - 1];
		sent[i - 1] = sent[k];
		sent[k] = t;
	}
	if (n > 1 && sent[0] == s) { /* make sure the order changed */
		char *t = sent[0];
		sent[0] = sent[1];
		sent[1] = t;
	}
	for (size_t i = 0; i < n; i++) {
		char *comma = strstr(sent[i], ", ");
		if (comma && pick(r, 2)) {
			*comma = '\0';
			w += sprintf(w, "%s%s, %s.", i ? " " : "", comma + 2, sent[i]);
		} else {
			w += sprintf(w, "%s%s.", i ? " " : "", sent[i]);
		}
	}
	*w = '\0';
	free(s);
	return out;
}

static char *near_copy(char *s, uint64_t *r)
{
	char *out = cm_xasprintf("%s %s", s, extra_sentences[pick(r, CM_ARRAY_LEN(extra_sentences))]);

	for (char *p = out; *p; p++)
		if (*p >= '1' && *p <= '8') {
			(*p)++;
			break;
		}
	free(s);
	return out;
}

/* A follow-up: the first sentences again, and a line saying nothing has
 * happened. Shares the least with the original. */
static char *follow_up(char *s)
{
	char *cut = s;
	int dots = 0;
	char *out;

	for (char *p = s; *p; p++)
		if (*p == '.' && ++dots == 3) {
			cut = p + 1;
			break;
		}
	if (cut != s)
		*cut = '\0';
	out = cm_xasprintf("%s Đến nay sự việc vẫn chưa được giải quyết nên tôi tiếp tục gửi đơn.", s);
	free(s);
	return out;
}

/* ------------------------------------------------------------ corpus --- */

static const char *const variants[] = {
	"order", "no-diacritics", "typos", "synonyms", "near-copy", "mixed", "follow-up",
};

static void push(struct corpus *c, size_t *cap, uint32_t person, uint32_t matter,
		 const char *variant, char *summary, char *text)
{
	struct corpus_doc *d;

	if (c->n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		c->docs = cm_xrealloc(c->docs, *cap * sizeof(*c->docs));
	}
	d = &c->docs[c->n++];
	d->person = person;
	d->matter = matter;
	d->respondent = respondents[matters[matter].respondent];
	d->summary = summary;
	d->text = text;
	d->variant = variant;
}

static void make_variant(const char *v, uint32_t person, uint32_t matter, uint64_t *r,
			 char **summary, char **text)
{
	char *s = cm_xstrdup(matters[matter].summary);
	char *t = render(matters[matter].text, person, matter);

	if (!strcmp(v, "order")) {
		t = reorder(t, r);
	} else if (!strcmp(v, "no-diacritics")) {
		s = no_diacritics(s);
		t = no_diacritics(t);
	} else if (!strcmp(v, "typos")) {
		s = typos(s, r, 1);
		t = typos(t, r, 5);
	} else if (!strcmp(v, "synonyms")) {
		s = synonymise(s, r);
		t = synonymise(t, r);
	} else if (!strcmp(v, "near-copy")) {
		t = near_copy(t, r);
	} else if (!strcmp(v, "mixed")) {
		t = synonymise(t, r);
		t = reorder(t, r);
		t = no_diacritics(t);
		t = typos(t, r, 3);
		s = no_diacritics(s);
	} else if (!strcmp(v, "follow-up")) {
		t = follow_up(t);
	}
	*summary = s;
	*text = t;
}

void corpus_build(struct corpus *c, uint32_t persons, uint64_t seed)
{
	struct pending {
		uint32_t person, matter;
		int variant; /* -1 = original */
	} *todo = NULL;
	size_t ntodo = 0, captodo = 0, cap = 0;
	uint64_t r = seed | 1;

	memset(c, 0, sizeof(*c));
	for (uint32_t p = 0; p < persons; p++) {
		unsigned resp = p % CM_ARRAY_LEN(respondents);
		unsigned skip = pick(&r, 4);

		/* Three of the four matters about the person's body: the other
		 * two are unrelated texts for each of them. */
		for (unsigned k = 0; k < 4; k++) {
			uint32_t m = resp * 4 + k;
			unsigned repeats = pick(&r, 4);

			if (k == skip)
				continue;
			if (ntodo + 8 > captodo) {
				captodo = captodo ? captodo * 2 : 256;
				todo = cm_xrealloc(todo, captodo * sizeof(*todo));
			}
			todo[ntodo++] = (struct pending){p, m, -1};
			for (unsigned i = 0; i < repeats; i++)
				todo[ntodo++] = (struct pending){
					p, m, (int)pick(&r, CM_ARRAY_LEN(variants))};
		}
	}
	/* Submission order: originals before their repeats, otherwise
	 * interleaved across people and matters. */
	for (size_t i = ntodo; i > 1; i--) {
		size_t k = next(&r) % i;
		struct pending t = todo[i - 1];
		todo[i - 1] = todo[k];
		todo[k] = t;
	}
	for (size_t i = 0; i < ntodo; i++) {
		if (todo[i].variant != -1)
			continue;
		/* Move the original in front of the first repeat of its matter. */
		for (size_t k = 0; k < i; k++)
			if (todo[k].person == todo[i].person && todo[k].matter == todo[i].matter) {
				struct pending t = todo[k];
				todo[k] = todo[i];
				todo[i] = t;
				break;
			}
	}
	for (size_t i = 0; i < ntodo; i++) {
		char *s, *t;
		const char *v = todo[i].variant < 0 ? "original" : variants[todo[i].variant];

		make_variant(v, todo[i].person, todo[i].matter, &r, &s, &t);
		push(c, &cap, todo[i].person, todo[i].matter, v, s, t);
	}
	free(todo);
}

void corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->docs[i].summary);
		free(c->docs[i].text);
	}
	free(c->docs);
	memset(c, 0, sizeof(*c));
}

char *corpus_text(uint32_t matter, uint32_t person)
{
	return render(matters[matter % NMATTERS].text, person, matter % NMATTERS);
}

size_t corpus_matter_count(void)
{
	return NMATTERS;
}
