"""Interface text in Chinese (default) and English, and which one a request gets."""

from __future__ import annotations

from fastapi import Request

LANG_COOKIE = "lianfang_lang"
LANGUAGES = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "app.name": ("联防联控指挥调度平台", "Joint Prevention and Control Command"),
    "app.short": ("联防", "lianfang"),
    "nav.home": ("首页", "Home"),
    "nav.my_area": ("我的辖区", "My area"),
    "nav.api": ("接口文档", "API docs"),
    "nav.sign_out": ("退出", "Sign out"),
    "nav.language": ("English", "中文"),
    "login.title": ("登录", "Sign in"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.hint": (
        "账号由上级管理员分配；演示账号见 lianfang demo 的输出。",
        "Accounts are issued by your administrator; demo accounts are printed by lianfang demo.",
    ),
    "home.welcome": ("您好，{name}", "Hello, {name}"),
    "home.role": ("角色：{role}；管辖范围：{area}", "Role: {role}; scope: {area}"),
    "home.switch": ("切换区域", "Go to an area"),
    "home.search_hint": (
        "输入区划名称或代码，如 如东 或 320623",
        "Name or code, e.g. 如东 or 320623",
    ),
    "home.no_results": ("没有找到匹配的区划", "No matching area"),
    "area.all": ("全部", "all"),
    "area.population": ("常住人口", "Residents"),
    "area.aged65": ("65岁及以上", "Aged 65+"),
    "area.aged80": ("80岁及以上", "Aged 80+"),
    "area.share65": ("65岁及以上占比", "Share aged 65+"),
    "area.counties": ("县（市、区）", "Counties"),
    "area.towns": ("乡镇（街道）", "Towns/streets"),
    "area.villages": ("村（社区）", "Villages/communities"),
    "area.children": ("下级区划", "Subdivisions"),
    "area.code": ("代码", "Code"),
    "area.name": ("名称", "Name"),
    "area.map": ("地图", "Map"),
    "area.no_children": ("这是最基层的区划。", "This is the lowest level."),
    "area.placed_notice": (
        "说明：乡镇、村（社区）的位置是演示时在县界内推算的，并非实测坐标；"
        "可用 lianfang areas import-coords 导入实测坐标。",
        "Note: town and village positions were placed inside the county "
        "boundary for the demo, not surveyed; import real ones with "
        "lianfang areas import-coords.",
    ),
    "area.synthetic_notice": (
        "人口按年龄段为演示合成数据，县区合计与2020年第七次人口普查一致。",
        "Population by age band is synthetic demo data; county totals match the 2020 census.",
    ),
    "area.no_population": ("尚无人口数据", "No population data"),
    "area.legend_town": ("乡镇（街道）", "Town/street"),
    "area.legend_village": ("村（社区）", "Village/community"),
    "area.updated": ("数据更新时间", "Data updated"),
    "area.coords": ("坐标", "Coordinates"),
    "demo.banner": (
        "演示环境：区划真实，位置与人口等数字为虚构（今天按 {today} 计；种子 {seed}，规模 {scale}，"
        "构建于 {when}）",
        "Demo: real divisions; positions and figures are invented (today is taken as {today}; "
        "seed {seed}, scale {scale}, built {when})",
    ),
    "nav.forecast": ("疫情预测", "Forecast"),
    "forecast.title": ("疫情预测", "Epidemic forecast"),
    "forecast.explain": (
        "按村、年龄段模拟感染、发热门诊、住院、重症与死亡，给出高峰时间和床位、"
        "药品需求；可比较不同情景。计算在后台进行，页面不会卡住。",
        "Simulates infections, fever-clinic visits, admissions, ICU and deaths by "
        "village and age band, with peak timing and demand for beds and drugs; "
        "compares scenarios. It runs in the background.",
    ),
    "forecast.days": ("预测天数", "Days"),
    "forecast.members": ("随机模拟次数（0 为确定性）", "Stochastic members (0 = deterministic)"),
    "forecast.scenarios": ("情景", "Scenarios"),
    "forecast.start": ("开始预测", "Start forecast"),
    "forecast.no_permission": (
        "您的角色不能发起预测，可查看已有结果。",
        "Your role cannot start forecasts; you can read existing ones.",
    ),
    "forecast.recent": ("最近的预测", "Recent runs"),
    "forecast.kind": ("类型", "Kind"),
    "forecast.status": ("状态", "Status"),
    "forecast.created": ("发起时间", "Started"),
    "forecast.by": ("发起人", "By"),
    "forecast.none": ("尚无预测", "No runs yet"),
    "forecast.failed": ("计算失败", "Failed"),
    "forecast.curve": (
        "每日新增有症状感染者（中位数与5%–95%区间）",
        "New symptomatic cases per day (median, 5–95%)",
    ),
    "forecast.compare": ("情景对比：在院人数与重症监护人数", "Scenarios: hospital and ICU census"),
    "forecast.peaks": ("各地高峰", "Peaks by area"),
    "forecast.peak_date": ("高峰日期", "Peak date"),
    "forecast.peak_cases": ("高峰日新增症状", "Symptomatic on peak day"),
    "forecast.peak_beds": ("在院峰值", "Peak beds"),
    "forecast.peak_icu": ("重症峰值", "Peak ICU"),
    "forecast.deaths": ("死亡", "Deaths"),
    "forecast.infections": ("感染", "Infections"),
    "forecast.antipyretics": ("退热药需求（疗程）", "Antipyretic courses"),
    "forecast.antivirals": ("抗病毒药需求（疗程）", "Antiviral courses"),
    "forecast.all": ("合计", "All"),
    "forecast.map": ("各村高峰时间", "Peak date by village"),
    "forecast.fit_chart": (
        "观测与拟合、预测（中位数与90%区间）",
        "Observed, fitted and forecast (median, 90%)",
    ),
    "forecast.estimates": ("拟合参数", "Fitted parameters"),
    "forecast.estimate": ("估计值", "Estimate"),
    "forecast.not_identified": ("数据不足以确定", "not identified by the data"),
    "forecast.fit_title": ("用观测数据拟合", "Fit to observed data"),
    "forecast.fit_explain": (
        "上传 CSV：date 列，以及 positives（报告阳性）、visits（发热门诊）、"
        "admissions（入院）、hospital_census（在院）中的任意几列；可只拟合到某日，"
        "检验对其后的预测。",
        "Upload a CSV: a date column and any of positives, visits, "
        "admissions, hospital_census; fit up to a day to judge the forecast "
        "of the rest.",
    ),
    "forecast.series": ("观测数据（CSV）", "Observed series (CSV)"),
    "forecast.until": ("只拟合到（可选）", "Fit up to (optional)"),
    "forecast.after": ("数据后再预测天数", "Days to forecast after the data"),
    "forecast.fit_start": ("开始拟合", "Start fit"),
    "nav.people": ("重点人群", "Key people"),
    "people.title": ("重点人群台账", "Key-population registry"),
    "people.area": ("区域", "Area"),
    "people.grade": ("风险等级", "Risk grade"),
    "people.missing": ("缺少保障", "Guarantee missing"),
    "people.overdue": ("随访逾期", "Follow-up overdue"),
    "people.alert_open": ("有待处置预警", "Open alert"),
    "people.search": ("姓名或身份证号后几位", "Name or ID tail"),
    "people.any": ("全部", "any"),
    "people.filter": ("筛选", "Filter"),
    "people.clear": ("清除筛选", "Clear filters"),
    "people.total": ("共 {total} 人", "{total} people"),
    "people.none": ("没有符合条件的人员", "Nobody matches"),
    "people.name": ("姓名", "Name"),
    "people.id": ("身份证号", "ID number"),
    "people.age": ("年龄", "Age"),
    "people.village": ("村（社区）", "Village"),
    "people.due": ("下次随访", "Next check-in"),
    "people.responsible": ("负责人", "Responsible"),
    "people.page": ("第 {page} / {pages} 页", "Page {page} of {pages}"),
    "people.prev": ("上一页", "Previous"),
    "people.next": ("下一页", "Next"),
    "people.export_xlsx": ("导出 Excel（脱敏）", "Export Excel (masked)"),
    "people.export_csv": ("导出 CSV（脱敏）", "Export CSV (masked)"),
    "people.export_full": ("导出完整信息", "Export unmasked"),
    "people.reason": ("理由（将记入审计日志）", "Reason (written to the audit log)"),
    "people.why": ("原因", "Why"),
    "people.care_record": (
        "登记负责人、药包与定点医院",
        "Record the responsible person, kit and hospital",
    ),
    "people.kit_on": ("药包发放日期", "Kit delivered on"),
    "people.save_care": ("保存", "Save"),
    "people.capabilities": ("医院救治能力", "Hospital capabilities"),
    "people.import": ("批量导入", "Import"),
    "people.coverage": ("四有覆盖", "Four-guarantee coverage"),
    "people.map": ("各村四有覆盖（红黄人员）", "Coverage by village (red and yellow people)"),
    "people.map_by": ("着色依据", "Colour by"),
    "people.all_four": ("四有全部落实", "all four guarantees"),
    "people.map_hint": (
        "点越红覆盖越低；点击一个村查看其缺少保障的人员。",
        "Redder means lower coverage; click a village for its people lacking it.",
    ),
    "people.assign": ("指定负责人", "Assign responsible"),
    "people.assign_hint": (
        "勾选人员后选择本乡镇的负责人",
        "Tick people, then choose a responsible person of the town",
    ),
    "people.assign_submit": ("指定", "Assign"),
    "people.followed": ("红黄人员", "Red and yellow"),
    "people.covered": ("已落实", "Covered"),
    "people.missing_count": ("未落实", "Missing"),
    "people.share": ("落实率", "Share"),
    "people.no_responsible": ("无负责人", "No responsible person"),
    "people.alerts": ("转诊预警", "Referral alerts"),
    "people.children": ("下级区域", "Subdivisions"),
    "people.stacked": (
        "各下级区域四有落实率（红黄人员）",
        "Share of red and yellow people each guarantee reaches, per subdivision",
    ),
    "people.grade_pie": ("风险等级分布", "Grades"),
    "people.total_people": ("登记人数", "Registered"),
    "people.identity": ("身份信息", "Identity"),
    "people.phone": ("联系电话", "Phone"),
    "people.address": ("住址", "Address"),
    "people.reveal": ("查看完整信息", "Reveal"),
    "people.revealed": ("完整信息（仅显示本次）", "Full details (shown this once)"),
    "people.method": ("定级方式", "Graded by"),
    "people.grade_history": ("等级变化", "Grade history"),
    "people.guarantees": ("四有保障", "Four guarantees"),
    "people.conditions": ("基础疾病", "Conditions"),
    "people.no_conditions": ("无登记的基础疾病", "No recorded conditions"),
    "people.vaccination": ("疫苗接种", "Vaccination"),
    "people.doses": ("{doses} 剂", "{doses} doses"),
    "people.kit": ("药包", "Kit"),
    "people.hospital": ("定点医院", "Designated hospital"),
    "people.living": ("居住情况", "Living"),
    "people.open_alerts": ("待处置的转诊预警", "Open referral alerts"),
    "people.no_alerts": ("无待处置预警", "No open alerts"),
    "people.close_note": ("处置情况", "How it was handled"),
    "people.close": ("处置完毕", "Close"),
    "people.follow_ups": ("随访记录", "Follow-ups"),
    "people.no_follow_ups": ("尚无随访记录", "No follow-ups yet"),
    "people.record": ("记录随访", "Record a follow-up"),
    "people.when": ("时间", "When"),
    "people.contact_method": ("方式", "Method"),
    "people.temperature": ("体温 ℃", "Temperature °C"),
    "people.spo2": ("血氧饱和度 %", "SpO2 %"),
    "people.symptoms": ("症状", "Symptoms"),
    "people.fever_days": ("发热天数", "Fever days"),
    "people.notes": ("备注", "Notes"),
    "people.save": ("保存随访", "Save follow-up"),
    "people.saved": ("已保存", "Saved"),
    "people.alert_raised": (
        "已触发转诊预警，请尽快安排转诊！",
        "A referral alert was raised: arrange a referral now!",
    ),
    "people.override": ("人工调整等级", "Override the grade"),
    "people.override_reset": ("恢复为计算等级", "back to the computed grade"),
    "people.override_submit": ("调整", "Change grade"),
    "people.by": ("操作人", "By"),
    "people.import_title": ("批量导入重点人员", "Import key people"),
    "people.import_explain": (
        "按模板填写后上传 .xlsx 或 .csv。所有行都检查通过才会写入；有任何错误时一行都不写入。",
        "Fill in the template and upload .xlsx or .csv. Rows are written only when all pass; "
        "with any error nothing is written.",
    ),
    "people.template": ("下载模板", "Download the template"),
    "people.file": ("文件", "File"),
    "people.dry_run": ("仅检查，不写入", "Check only, write nothing"),
    "people.upload": ("上传", "Upload"),
    "people.import_done": (
        "完成：新增 {created}，更新 {updated}，无变化 {unchanged}",
        "Done: {created} created, {updated} updated, {unchanged} unchanged",
    ),
    "people.import_checked": (
        "检查通过（未写入）：将新增 {created}，更新 {updated}，无变化 {unchanged}",
        "Checked (nothing written): {created} to create, {updated} to update, "
        "{unchanged} unchanged",
    ),
    "people.nothing_written": ("未写入任何数据", "Nothing was written"),
    "people.row": ("行", "Row"),
    "people.column": ("列", "Column"),
    "people.message": ("问题", "Problem"),
    "people.error_workbook": ("下载标注错误的表格", "Download the workbook with the errors marked"),
    "error.title": ("无法完成请求", "Request refused"),
    "error.back": ("返回首页", "Back to home"),
    "table.none": ("—", "—"),
}


def request_language(request: Request) -> str:
    """The language of a request: ?lang=, then the cookie, then the server's default."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    settings = getattr(request.app.state, "settings", None)
    return settings.language if settings is not None else "zh"


def translate(language: str, key: str, **values: object) -> str:
    """The text for a key in a language, with its {named} fields filled in."""
    zh, en = MESSAGES[key]
    text = zh if language == "zh" else en
    return text.format(**values) if values else text
