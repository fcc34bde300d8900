"""Pure import rules: header detection, column mapping, value normalisation, row interpretation."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from huifang_desktop.domain.errors import ValidationError
from huifang_desktop.domain.importing import (
    Columns,
    ComplaintRowContext,
    CustomerRowContext,
    ImportRules,
    ImportTarget,
    IssueKind,
    RowIssue,
    SheetRow,
    VisitRowContext,
    cell_text,
    column_letter,
    complaint_from_row,
    customer_from_row,
    customer_keys,
    data_rows,
    detect_header_row,
    excel_serial_to_datetime,
    header_score,
    is_empty_row,
    is_total_row,
    mapping_by_header,
    mapping_settings_key,
    missing_required,
    normalize_header,
    parse_cell_date,
    parse_cell_datetime,
    parse_chinese_number,
    parse_count,
    parse_customer_state,
    parse_grade,
    parse_kind,
    parse_status,
    sheet_duplicates,
    split_phone_cell,
    suggest_mapping,
    user_lookup,
    visit_from_row,
)
from huifang_desktop.domain.visits import FIVE_LEVEL

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 10, 0)

# --- cells ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (None, ""),
        ("  张  三 ", "张 三"),
        ("ＡＢＣ　公司１号", "ABC\u3000公司1号"),
        ("\u3000王\u3000芳\u3000", "王\u3000芳"),
        (13812345678.0, "13812345678"),
        (12, "12"),
        (1.5, "1.5"),
        (True, "是"),
        (date(2026, 3, 5), "2026-03-05"),
        (datetime(2026, 3, 5), "2026-03-05"),
        (datetime(2026, 3, 5, 9, 30), "2026-03-05 09:30"),
        ("杭州某某（集团）有限公司", "杭州某某（集团）有限公司"),  # Chinese brackets stay, as typed by hand
    ],
)
def test_cell_text_normalises_full_width_and_spaces(raw, text):
    assert cell_text(raw) == text


def test_cell_text_multiline_keeps_lines_without_blank_ones():
    assert cell_text(" 第一行 \r\n\n  第二  行 ", multiline=True) == "第一行\n第二 行"


@pytest.mark.parametrize(("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (702, "AAA")])
def test_column_letter_matches_excel(index, letter):
    assert column_letter(index) == letter


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("客户名称（必填）", "客户名称"),
        ("*联系 电话", "联系电话"),
        ("E-mail", "e-mail"),
        ("建档\n日期", "建档日期"),
        ("地址：", "地址"),
        ("ＱＱ", "qq"),
    ],
)
def test_normalize_header_drops_marks_notes_and_spaces(raw, norm):
    assert normalize_header(raw) == norm


@pytest.mark.parametrize(
    "values", [["合计", None, 35], [None, "合 计：", 1], ["本页小计"], ["总计"], ["小计:12户"], ["Total", 3]]
)
def test_is_total_row_recognises_total_rows(values):
    assert is_total_row(values)


@pytest.mark.parametrize(
    "values", [["合计贸易有限公司", "13812345678"], ["张三", "合计"], [1, "李四", "小计员", "x", "合计"]]
)
def test_is_total_row_leaves_customers_named_like_totals(values):
    assert not is_total_row(values)


def test_is_empty_row_treats_spaces_as_empty():
    assert is_empty_row([None, "  ", "\u3000"]) and not is_empty_row([None, 0])


# --- numbers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("十二", 12),
        ("一百零五", 105),
        ("1万", 10_000),
        ("3.5万", 35_000),
        ("两千", 2_000),
        ("一百五", 150),
        ("三万五", 35_000),
        ("1万2千", 12_000),
        ("壹佰", 100),
        ("1,200", 1_200),
        ("约100", 100),
        ("二十万", 200_000),
        ("一千零一十", 1_010),
        ("十", 10),
        ("零", 0),
        ("一亿二千万", 120_000_000),
        ("１２", 12),
        (7, 7),
        (2.5, Decimal("2.5")),
        ("100左右", 100),
    ],
)
def test_parse_chinese_number_reads_numbers_as_offices_write_them(raw, value):
    assert parse_chinese_number(raw) == value


@pytest.mark.parametrize("raw", ["很多", "十二台车", "1.2.3", "", "三万五千abc"])
def test_parse_chinese_number_refuses_what_is_not_a_number(raw):
    with pytest.raises(ValidationError) as exc:
        parse_chinese_number(raw, label="年采购量", field="volume")
    assert exc.value.fields == ["volume"] and "年采购量" in str(exc.value)


def test_parse_count_strips_units_and_wants_whole_numbers():
    assert parse_count("12台") == 12 and parse_count("十二辆") == 12 and parse_count(None) is None
    assert parse_count("") is None and parse_count(30.0) == 30
    with pytest.raises(ValidationError, match="整数"):
        parse_count("1.5")


# --- dates ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2026年3月5日",
        "2026.3.5",
        "2026/03/05",
        "26-3-5",
        46086,
        46086.75,
        "46086",
        "20260305",
        "２０２６年３月５日",
        "2026-3-5号",
        date(2026, 3, 5),
        datetime(2026, 3, 5, 14, 0),
        " 2026 - 03 - 05 ",
    ],
)
def test_parse_cell_date_reads_the_common_chinese_forms_and_excel_serials(raw):
    assert parse_cell_date(raw) == date(2026, 3, 5)


def test_parse_cell_date_two_digit_years_follow_the_pivot():
    assert parse_cell_date("85-3-5") == date(1985, 3, 5)
    assert parse_cell_date("85-3-5", rules=ImportRules(two_digit_year_pivot=90)) == date(2085, 3, 5)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2026-02-30", "不是存在的日期"),
        ("2026年13月1日", "不是存在的日期"),
        ("下周三", "不是可识别的日期"),
        (123, "不是可识别的日期"),
        ("2026-3", "不是可识别的日期"),
    ],
)
def test_parse_cell_date_refuses_impossible_and_unknown_dates_naming_the_field(raw, message):
    with pytest.raises(ValidationError) as exc:
        parse_cell_date(raw, label="建档日期", field="created_on")
    assert exc.value.fields == ["created_on"] and message in str(exc.value) and "建档日期" in str(exc.value)


def test_parse_cell_date_empty_is_none():
    assert parse_cell_date(None) is None and parse_cell_date("  ") is None


@pytest.mark.parametrize(
    ("raw", "moment"),
    [
        ("2026-03-05 14:30", datetime(2026, 3, 5, 14, 30)),
        ("2026年3月5日14时30分", datetime(2026, 3, 5, 14, 30)),
        ("2026/3/5 9:05:07", datetime(2026, 3, 5, 9, 5, 7)),
        ("2026年3月5日 9点", datetime(2026, 3, 5, 9, 0)),
        ("2026.3.5", datetime(2026, 3, 5, 9, 0)),
        (46086.5, datetime(2026, 3, 5, 12, 0)),
        (46086, datetime(2026, 3, 5, 9, 0)),
        (date(2026, 3, 5), datetime(2026, 3, 5, 9, 0)),
    ],
)
def test_parse_cell_datetime_reads_times_and_defaults_a_missing_one(raw, moment):
    assert parse_cell_datetime(raw, default_time=time(9, 0)) == moment


def test_parse_cell_datetime_refuses_an_impossible_time():
    with pytest.raises(ValidationError, match="时间不存在"):
        parse_cell_datetime("2026-03-05 25:10")


def test_excel_serial_to_datetime_rounds_to_the_second():
    assert excel_serial_to_datetime(1) == datetime(1899, 12, 31)
    assert excel_serial_to_datetime(46086 + 1 / 3) == datetime(2026, 3, 5, 8, 0)


# --- classes and choices ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "grade"),
    [
        ("A类", "A"),
        ("a", "A"),
        ("甲类", "A"),
        ("甲", "A"),
        ("B级", "B"),
        ("乙类", "B"),
        ("丙", "C"),
        ("丁类客户", "D"),
        ("一类客户", "A"),
        ("VIP", "VIP"),
        ("vip", "VIP"),
        ("大客户", "VIP"),
        ("普通", "普通"),
        ("小客户", "小客户"),
        ("Ｃ类", "C"),
        (None, None),
        ("", None),
    ],
)
def test_parse_grade_reads_class_names(raw, grade):
    assert parse_grade(raw) == grade


def test_parse_grade_refuses_unknown_classes():
    with pytest.raises(ValidationError, match="“优秀”不是可识别的等级"):
        parse_grade("优秀")


@pytest.mark.parametrize(
    ("raw", "name", "kind"),
    [
        ("", "张三", "个人"),
        ("", "欧阳小明", "个人"),
        ("", "杭州某某有限公司", "单位"),
        ("", "老王五金店", "单位"),
        ("", "ABC Ltd", "单位"),
        ("公司", "张三", "单位"),
        ("私人", "某某", "个人"),
        ("个人客户", "x", "个人"),
    ],
)
def test_parse_kind_reads_or_guesses_from_the_name(raw, name, kind):
    assert parse_kind(raw, name) == kind


def test_parse_status_defaults_to_normal_and_maps_words():
    assert parse_status("") == "正常" and parse_status("停用") == "暂停" and parse_status("已注销") == "注销"
    with pytest.raises(ValidationError, match="不是有效的选项"):
        parse_status("不知道")


def test_parse_customer_state_reads_archived_as_the_customer_ledger_exports_it():
    """客户台账（全部） shows 状态 已归档 for an archived file (services/ledgers/customer_ledger.py): such a row
    is an archived file; a status is a file in use (issue 21, round trip of 全部)."""
    assert parse_customer_state("已归档") == ("正常", True) and parse_customer_state(" 归档 ") == (
        "正常",
        True,
    )
    assert parse_customer_state("") == ("正常", False) and parse_customer_state("流失") == ("流失", False)
    assert parse_customer_state("停用") == ("暂停", False)
    with pytest.raises(ValidationError, match="可选：正常、暂停、流失、注销、已归档"):
        parse_customer_state("不知道")


def test_customer_from_row_archived_and_status_rows():
    headers = ["客户名称", "联系电话", "状态"]
    cols = _cols(ImportTarget.CUSTOMERS, headers)
    archived = customer_from_row(SheetRow(3, ("张三", "13812345678", "已归档")), cols, _cctx())
    lost = customer_from_row(SheetRow(4, ("李四", "13812345679", "流失")), cols, _cctx())
    bad = customer_from_row(SheetRow(5, ("王五", "13812345670", "作废了")), cols, _cctx())
    assert not isinstance(archived, list) and not isinstance(lost, list)
    assert (archived.archived, archived.clean.status) == (True, "正常")
    assert (lost.archived, lost.clean.status) == (False, "流失")
    assert isinstance(bad, list) and [(i.column, i.header) for i in bad] == [("C", "状态")]


# --- phones ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "phones"),
    [
        ("13812345678/0571-88886666", ("13812345678", "057188886666")),
        ("１３８１２３４５６７８；13912345678", ("13812345678", "13912345678")),
        ("13812345678 13912345678", ("13812345678", "13912345678")),
        ("13812345678\n13912345678", ("13812345678", "13912345678")),
        (13812345678, ("13812345678",)),
        (13812345678.0, ("13812345678",)),
        ("13812345678（王经理）", ("13812345678",)),
        ("手机：13812345678", ("13812345678",)),
        ("021 6123 4567", ("02161234567",)),
        ("13812345678、13812345678", ("13812345678",)),
        ("", ()),
        (57188886666, ("057188886666",)),
        (2161234567.0, ("02161234567",)),  # landlines typed as numbers
    ],
)
def test_split_phone_cell_finds_every_number(raw, phones):
    assert split_phone_cell(raw) == phones


def test_split_phone_cell_names_the_bad_number():
    with pytest.raises(ValidationError) as exc:
        split_phone_cell("13812345678/12345", label="联系电话", field="phone")
    assert exc.value.fields == ["phone"] and "“12345”不是有效的手机号码" in str(exc.value)


# --- header and mapping -----------------------------------------------------------------------------------

UGLY = [
    ["某某公司客户台账（2026年）"],
    [],
    [None, "制表：客服部", None, None, "日期：2026-11-01"],
    ["序号", "客户名称", "联系人", "联系电话", "地址", "客户等级", "建档日期", "业务员", "备注"],
    [1, "张三", "", "13812345678", "杭州", "甲类", "2026年3月5日", "小王", ""],
]


def test_detect_header_row_skips_titles_blank_rows_and_notes():
    assert detect_header_row(UGLY, ImportTarget.CUSTOMERS) == 4
    assert header_score(UGLY[0], ImportTarget.CUSTOMERS) < 1
    assert header_score(UGLY[3], ImportTarget.CUSTOMERS) == 8


def test_detect_header_row_gives_none_without_a_header_and_respects_the_scan_limit():
    assert detect_header_row([["随便"], [1, 2]], ImportTarget.CUSTOMERS) is None
    assert detect_header_row(UGLY, ImportTarget.CUSTOMERS, ImportRules(header_scan_rows=3)) is None


def test_suggest_mapping_uses_synonyms_per_target():
    assert suggest_mapping(UGLY[3], ImportTarget.CUSTOMERS) == {
        "name": 1,
        "contact": 2,
        "phone": 3,
        "address": 4,
        "grade": 5,
        "created_on": 6,
        "owner": 7,
        "notes": 8,
    }
    headers = ["单位名称", "手机", "电话", "负责人", "级别", "类别"]
    assert suggest_mapping(headers, ImportTarget.CUSTOMERS) == {
        "name": 0,
        "mobile": 1,
        "phone": 2,
        "owner": 3,
        "grade": 4,
        "category": 5,
    }
    complaint = ["投诉日期", "投诉人", "联系方式", "投诉内容", "负责人", "处理状态", "类别"]
    assert suggest_mapping(complaint, ImportTarget.COMPLAINTS) == {
        "received_at": 0,
        "complainant": 1,
        "phone": 2,
        "content": 3,
        "handler": 4,
        "state": 5,
        "category": 6,
    }
    visits = ["客户", "回访日期", "回访人", "满意度", "回访方式"]
    assert suggest_mapping(visits, ImportTarget.VISITS) == {
        "customer": 0,
        "visited_at": 1,
        "visitor": 2,
        "satisfaction": 3,
        "method": 4,
    }


def test_suggest_mapping_prefers_exact_names_and_uses_each_column_once():
    # 联系人电话 is the phone, not the contact; 客户名称 wins 名称 over 客户
    m = suggest_mapping(["客户", "客户名称", "联系人电话", "联系人"], ImportTarget.CUSTOMERS)
    assert m["name"] == 1 and m["phone"] == 2 and m["contact"] == 3
    assert len(set(m.values())) == len(m)


def test_suggest_mapping_saved_mapping_goes_first():
    headers = ["名称", "备用电话", "电话"]
    assert suggest_mapping(headers, ImportTarget.CUSTOMERS)["phone"] == 2
    m = suggest_mapping(headers, ImportTarget.CUSTOMERS, {"phone": "备用电话", "unknown": "名称"})
    assert m["phone"] == 1 and m["name"] == 0 and "unknown" not in m


def test_missing_required_and_mapping_by_header():
    assert [f.key for f in missing_required(ImportTarget.COMPLAINTS, {"subject": 1})] == ["received_at"]
    assert mapping_by_header(["客户名称", "", "电话"], {"name": 0, "notes": 1, "phone": 2}) == {
        "name": "客户名称",
        "phone": "电话",
    }
    assert mapping_settings_key(ImportTarget.VISITS) == "import_mapping.visits"
    assert ImportTarget.from_slug("customers") is ImportTarget.CUSTOMERS
    with pytest.raises(ValidationError, match="不是可导入的台账"):
        ImportTarget.from_slug("service")


def test_import_rules_round_trip_and_refuse_bad_numbers():
    rules = ImportRules(batch_size=100, header_scan_rows=10)
    assert ImportRules.from_dict(rules.to_dict()) == rules
    assert ImportRules.from_dict({"batch_size": "50", "other": 1}).batch_size == 50
    with pytest.raises(ValidationError):
        ImportRules(batch_size=0)
    with pytest.raises(ValidationError):
        ImportRules(serial_min=90_000)


# --- rows -----------------------------------------------------------------------------------------------


def test_data_rows_skip_empty_total_and_repeated_header_rows_keeping_sheet_numbers():
    rows = [
        *UGLY,
        [],
        [2, "李四", "", "13812345679"],
        UGLY[3],
        ["合计", None, None, None, None, None, None, None, "2户"],
        [],
        [],
    ]
    got, skips = data_rows(rows, 4)
    assert [r.number for r in got] == [5, 7]
    assert (skips.empty, skips.totals, skips.repeated_headers) == (1, 1, 1)


def _cols(target: ImportTarget, headers: list[str]) -> Columns:
    return Columns(target, suggest_mapping(headers, target), tuple(headers))


CUST_HEADERS = [
    "客户名称",
    "联系人",
    "联系电话",
    "地址",
    "等级",
    "建档日期",
    "负责人",
    "年采购量",
    "客户类别",
]


def _cctx(**kw) -> CustomerRowContext:
    base = {
        "today": TODAY,
        "categories": ("经销商", "终端客户", "普通"),
        "users": user_lookup([(7, "xiaowang", "小王")]),
        "default_owner_id": 3,
    }
    base.update(kw)
    return CustomerRowContext(**base)  # type: ignore[arg-type]


def test_customer_from_row_builds_a_checked_file_with_one_contact_per_extra_number():
    row = SheetRow(
        9,
        (
            "杭州宏达物流有限公司",
            "王经理",
            "13912345678/0571-88886666 ; 13700001111",
            "滨江区",
            "乙类",
            46086,
            "小王",
            "一百零五",
            "经销商",
        ),
    )
    c = customer_from_row(row, _cols(ImportTarget.CUSTOMERS, CUST_HEADERS), _cctx())
    assert not isinstance(c, list)
    assert (c.row, c.grade, c.annual_volume, c.clean.owner_id, c.clean.kind) == (9, "B", 105, 7, "单位")
    assert [(k.name, k.mobile, k.phone, k.is_primary, k.title) for k in c.clean.contacts] == [
        ("王经理", "13912345678", "057188886666", True, ""),
        ("王经理", "13700001111", None, False, "其他电话"),
    ]
    assert c.phones == frozenset({"13912345678", "057188886666", "13700001111"})


def test_customer_from_row_grade_from_volume_when_no_class_and_default_owner():
    row = SheetRow(5, ("张三", "", "13812345678", "", "", "", "", "十二", ""))
    c = customer_from_row(row, _cols(ImportTarget.CUSTOMERS, CUST_HEADERS), _cctx())
    assert not isinstance(c, list)
    assert (c.grade, c.clean.owner_id, c.clean.kind, c.clean.contacts[0].name) == ("C", 3, "个人", "张三")
    assert c.clean.category == "普通" and c.clean.created_on == TODAY


def test_customer_from_row_reports_every_problem_with_row_column_and_header():
    """One pass, all problems: the cells' own problems and the file's checks together (issue 21)."""
    row = SheetRow(7, ("", "", "12345", "", "优秀", "2026-02-30", "老刘", "很多", "乱写"))
    issues = customer_from_row(row, _cols(ImportTarget.CUSTOMERS, CUST_HEADERS), _cctx())
    assert isinstance(issues, list)
    assert [(i.row, i.column, i.header) for i in issues] == [
        (7, "E", "等级"),
        (7, "H", "年采购量"),
        (7, "F", "建档日期"),
        (7, "C", "联系电话"),
        (7, "A", "客户名称"),
        (7, "I", "客户类别"),
    ]
    assert all(i.kind is IssueKind.ERROR for i in issues)
    assert "“乱写”不在类别列表中" in issues[-1].message and issues[-2].message == "不能为空"


def test_customer_from_row_unknown_or_ambiguous_owner_never_blocks_the_row():
    users = user_lookup([(1, "wang1", "小王"), (2, "wang2", "小王")])
    row = SheetRow(5, ("张三", "", "13812345678", "", "", "", "小王", "", ""))
    c = customer_from_row(row, _cols(ImportTarget.CUSTOMERS, CUST_HEADERS), _cctx(users=users))
    assert not isinstance(c, list) and c.clean.owner_id is None and c.owner_name == "小王"
    row = SheetRow(5, ("张三", "", "13812345678", "", "", "", "离职的老刘", "", ""))
    c = customer_from_row(row, _cols(ImportTarget.CUSTOMERS, CUST_HEADERS), _cctx(users=users))
    assert not isinstance(c, list) and c.clean.owner_id is None and c.owner_name == "离职的老刘"
    row = SheetRow(5, ("张三", "", "13812345678", "", "", "", "WANG2", "", ""))
    c = customer_from_row(row, _cols(ImportTarget.CUSTOMERS, CUST_HEADERS), _cctx(users=users))
    assert not isinstance(c, list) and c.clean.owner_id == 2 and c.owner_name == ""


def test_sheet_duplicates_by_phone_or_name_and_address():
    cols = _cols(ImportTarget.CUSTOMERS, CUST_HEADERS)
    rows = [
        SheetRow(5, ("张三", "", "13812345678", "西湖区")),
        SheetRow(6, ("张三丰", "", "13812345678", "别处")),
        SheetRow(7, ("张三", "", "13900000000", "西湖区")),
        SheetRow(8, ("李四", "", "13700000000", "西湖区")),
    ]
    cands = [customer_from_row(r, cols, _cctx()) for r in rows]
    kept, issues = sheet_duplicates(
        cands,
        customer_keys,
        lambda kind, value, cand: ("C", "联系电话") if kind == "phone" else ("A", "客户名称"),
    )
    assert [c.row for c in kept] == [5, 8]
    assert issues == [
        RowIssue(6, "C", "联系电话", "与第 5 行重复（电话 138 1234 5678 相同）", IssueKind.DUPLICATE),
        RowIssue(7, "A", "客户名称", "与第 5 行重复（名称和地址相同）", IssueKind.DUPLICATE),
    ]


def test_visit_from_row_finds_the_customer_and_maps_words():
    cols = _cols(
        ImportTarget.VISITS, ["客户名称", "回访日期", "回访方式", "回访人", "满意度", "回访结果", "联系电话"]
    )
    vctx = VisitRowContext(
        now=NOW,
        customers_by_code={},
        customers_by_name={"张三": (4,), "重名": (5, 6)},
        users=user_lookup([(7, "xiaowang", "小王")]),
        satisfaction_levels=FIVE_LEVEL.levels,
        default_visitor_id=9,
    )
    v = visit_from_row(
        SheetRow(3, ("张三", "2026年3月5日 10:30", "上门回访", "小王", "非常满意", "", "13812345678")),
        cols,
        vctx,
    )
    assert not isinstance(v, list)
    assert (
        v.customer_id,
        v.visited_at,
        v.method,
        v.visitor_id,
        v.satisfaction,
        v.result,
        v.contact_phone,
    ) == (4, datetime(2026, 3, 5, 10, 30), "上门", 7, "很满意", "成功", "13812345678")
    v2 = visit_from_row(SheetRow(4, ("张三", "2026-3-6", "电话", "", "", "无人接听", "")), cols, vctx)
    assert not isinstance(v2, list) and (v2.result, v2.visitor_id, v2.visit_type) == ("未接通", 9, "例行")
    bad = visit_from_row(SheetRow(5, ("重名", "2027-1-1", "飞鸽", "", "超级满意", "", "")), cols, vctx)
    assert isinstance(bad, list)
    assert [i.column for i in bad] == ["A", "B", "C", "E"]
    assert "有 2 个客户叫“重名”" in bad[0].message and bad[1].message == "不能晚于现在"
    assert "“飞鸽”不是有效的选项" in bad[2].message and "“超级满意”不是本单位满意度的选项" in bad[3].message


def test_complaint_from_row_subject_from_content_state_from_result_and_anonymous():
    headers = [
        "投诉日期",
        "投诉主题",
        "投诉内容",
        "投诉人",
        "联系方式",
        "类别",
        "处理状态",
        "处理结果",
        "结案日期",
        "严重程度",
        "渠道",
    ]
    cols = _cols(ImportTarget.COMPLAINTS, headers)
    cctx = ComplaintRowContext(
        now=NOW,
        customers_by_code={},
        customers_by_name={},
        users={},
        categories=("产品质量", "服务态度", "其他"),
    )
    c = complaint_from_row(
        SheetRow(
            2,
            (
                "2026.10.5",
                "",
                "维修人员态度差！后来又来了一次",
                "",
                "",
                "服务态度问题",
                "",
                "已道歉",
                "2026-10-08",
                "严重",
                "12345",
            ),
        ),
        cols,
        cctx,
    )
    assert not isinstance(c, list)
    assert (
        c.received_at,
        c.subject,
        c.category,
        c.state,
        c.closed_at,
        c.anonymous,
        c.severity,
        c.channel,
    ) == (
        datetime(2026, 10, 5, 9, 0),
        "维修人员态度差",
        "服务态度",
        "已关闭",
        datetime(2026, 10, 8, 17, 0),
        True,
        "重要",
        "上级转办",
    )
    open_ = complaint_from_row(
        SheetRow(3, ("2026-11-01", "噪音", "", "张三", "13812345678", "", "待回访", "", "", "", "")),
        cols,
        cctx,
    )
    assert not isinstance(open_, list)
    assert (open_.state, open_.category, open_.anonymous, open_.closed_at) == ("处理中", "其他", False, None)
    bad = complaint_from_row(
        SheetRow(4, ("2026-12-01", "", "", "", "", "乱写", "", "", "2026-11-01", "", "")), cols, cctx
    )
    assert isinstance(bad, list)
    assert [i.column for i in bad] == ["A", "B", "F", "I"]  # future date, no subject, category, closed before


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (350, Decimal("350.00")),
        ("¥350.5", Decimal("350.50")),
        ("１，２００元", Decimal("1200.00")),
        ("三百五", Decimal("350.00")),
        (" ", None),
        (None, None),
        (12.345, Decimal("12.35")),
    ],
)
def test_parse_money_reads_amounts_as_offices_write_them(raw, expected) -> None:
    from huifang_desktop.domain.importing import parse_money

    assert parse_money(raw, label="维修费用", field="cost") == expected


@pytest.mark.parametrize("raw", ["-5", "五块钱左右吧", "12..5"])
def test_parse_money_refuses_negative_or_unreadable_amounts_naming_the_column(raw) -> None:
    from huifang_desktop.domain.importing import parse_money

    with pytest.raises(ValidationError) as info:
        parse_money(raw, label="维修费用", field="cost")
    assert info.value.errors[0].label == "维修费用"
