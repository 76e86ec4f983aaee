"""Enumerations of the key-population registry, each with labels and a colour."""

from __future__ import annotations

from lianfang.choices import Choice


class Sex(Choice):
    male = ("male", "男", "male")
    female = ("female", "女", "female")


class Living(Choice):
    """Living situation."""

    with_family = ("with_family", "与家人同住", "with family")
    alone = ("alone", "独居", "alone")
    bedridden = ("bedridden", "卧床", "bedridden")
    nursing_home = ("nursing_home", "养老机构", "in a nursing home")


class Condition(Choice):
    """An underlying condition that raises the risk of severe COVID-19."""

    hypertension = ("hypertension", "高血压", "hypertension")
    diabetes = ("diabetes", "糖尿病", "diabetes")
    coronary = ("coronary", "冠心病", "coronary heart disease")
    stroke = ("stroke", "脑卒中", "stroke")
    copd = ("copd", "慢阻肺", "COPD")
    kidney = ("kidney", "慢性肾病/透析", "chronic kidney disease or dialysis")
    cancer = ("cancer", "肿瘤治疗中", "cancer under treatment")
    immune = ("immune", "免疫缺陷", "immune deficiency")
    pregnancy = ("pregnancy", "妊娠", "pregnancy")
    disability = ("disability", "残疾", "disability")


class DiseaseState(Choice):
    """The state of one condition, or of all of a person's conditions taken together."""

    none = ("none", "无", "none", "#91cc75")
    stable = ("stable", "稳定", "stable", "#fac858")
    unstable = ("unstable", "不稳定", "unstable", "#ee6666")


class Vaccination(Choice):
    full = ("full", "全程加强", "fully vaccinated", "#91cc75")
    incomplete = ("incomplete", "未完成", "incomplete", "#fac858")
    none = ("none", "未接种", "not vaccinated", "#ee6666")


class Grade(Choice):
    """Risk grade of a key person (红黄绿分级)."""

    red = ("red", "红色", "red", "#d9363e")
    yellow = ("yellow", "黄色", "yellow", "#e6a23c")
    green = ("green", "绿色", "green", "#3ba272")

    @property
    def followed(self) -> bool:
        """True for the grades that the four guarantees apply to."""
        return self is not Grade.green


class GradeMethod(Choice):
    rule = ("rule", "规则", "rule")
    score = ("score", "评分", "score")
    manual = ("manual", "人工调整", "manual override", "#ee6666")


class ResponsibleKind(Choice):
    family_doctor = ("family_doctor", "家庭医生", "family doctor")
    village_doctor = ("village_doctor", "村医", "village doctor")
    grid_worker = ("grid_worker", "网格员", "grid worker")


class Capability(Choice):
    """What a designated hospital can treat."""

    general = ("general", "普通病房", "general ward")
    icu = ("icu", "重症", "intensive care")
    dialysis = ("dialysis", "血液透析", "dialysis")
    obstetrics = ("obstetrics", "产科", "obstetrics")
    paediatrics = ("paediatrics", "儿科", "paediatrics")


class ContactMethod(Choice):
    phone = ("phone", "电话", "phone")
    visit = ("visit", "上门", "visit")
    video = ("video", "视频", "video")


class Symptom(Choice):
    fever = ("fever", "发热", "fever")
    cough = ("cough", "咳嗽", "cough")
    sore_throat = ("sore_throat", "咽痛", "sore throat")
    fatigue = ("fatigue", "乏力", "fatigue")
    breathless = ("breathless", "呼吸困难", "breathing difficulty", "#ee6666")
    chest_pain = ("chest_pain", "胸闷胸痛", "chest pain", "#ee6666")
    confusion = ("confusion", "意识改变", "confusion", "#ee6666")
    poor_intake = ("poor_intake", "进食差", "poor food intake")


class AlertReason(Choice):
    low_spo2 = ("low_spo2", "血氧饱和度低于93%", "SpO2 below 93%", "#d9363e")
    persistent_fever = ("persistent_fever", "持续高热", "persistent high fever", "#e6a23c")
    breathless = ("breathless", "呼吸困难", "breathing difficulty", "#d9363e")


class AlertStatus(Choice):
    open = ("open", "待处置", "open", "#d9363e")
    closed = ("closed", "已处置", "closed", "#3ba272")


class Guarantee(Choice):
    """The four guarantees (四有) per red or yellow person."""

    in_charge = ("in_charge", "有人管", "someone in charge")
    checked_on = ("checked_on", "有人问", "checked on")
    medicine = ("medicine", "有药用", "medicine on hand")
    treatment = ("treatment", "有医治", "place to be treated")


class ChangeSource(Choice):
    form = ("form", "页面", "form")
    api = ("api", "接口", "API")
    sheet = ("sheet", "表格导入", "sheet import")
    demo = ("demo", "演示数据", "demo")


class TrackedGroup(Choice):
    """A tracked group recorded by hand (65+, pregnancy, living alone, disability and arrival
    from abroad follow from other fields)."""

    left_behind_child = ("left_behind_child", "留守儿童", "left-behind child")
    veteran = ("veteran", "退役军人", "veteran")
    party_member_hardship = (
        "party_member_hardship",
        "生活困难老党员",
        "elderly Party member in hardship",
    )
    low_income = ("low_income", "低保特困", "low income or destitute")
