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
        "演示环境：区划真实，位置与人口等数字为虚构（种子 {seed}，规模 {scale}，构建于 {when}）",
        "Demo: real divisions; positions and figures are invented (seed {seed}, "
        "scale {scale}, built {when})",
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
