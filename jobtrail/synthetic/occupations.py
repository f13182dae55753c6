"""Occupation families: the latent intents of synthetic job-seekers and the vocabulary of their jobs.

Each family has role words (title tokens), skills, companies and a salary base. Some words are shared
on purpose ("software" in software engineering *and* clinical software training; "manager" across many)
so that naive token counts can mislead, as they do on real job boards.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str
    roles: tuple[str, ...]
    skills: tuple[str, ...]
    companies: tuple[str, ...]
    salary_base: float  # yearly, mid seniority


SENIORITY_WORDS = ("junior", "", "", "senior", "lead")  # seniority 1..5 → optional prefix
CITIES = (
    "london", "manchester", "birmingham", "leeds", "glasgow", "edinburgh", "bristol", "cardiff",
    "liverpool", "newcastle", "sheffield", "nottingham", "belfast", "leicester", "brighton", "oxford",
    "cambridge", "york", "aberdeen", "southampton", "reading", "coventry", "plymouth", "norwich",
    "remote",
)
OFF_TOPIC_WORDS = ("urgent", "immediate", "start", "flexible", "hours", "weekend", "bonus", "hybrid")

FAMILIES: tuple[Family, ...] = (
    Family("civil_engineering", ("civil engineer", "structural engineer", "site engineer", "bridge engineer"),
           ("autocad", "structural analysis", "surveying", "eurocodes", "concrete design", "revit"),
           ("arup", "atkins", "jacobs", "balfour", "mott"), 42000),
    Family("medical_software_training", ("clinical software trainer", "ehr trainer", "medical software trainer",
                                         "clinical applications specialist"),
           ("epic", "cerner", "training delivery", "clinical workflows", "software onboarding", "nhs systems"),
           ("cerner", "epic systems", "emis", "tpp", "system c"), 36000),
    Family("account_management", ("account manager", "key account manager", "client manager",
                                  "account director"),
           ("crm", "negotiation", "client retention", "upselling", "salesforce", "forecasting"),
           ("oracle", "sap", "adobe", "hubspot", "sage"), 48000),
    Family("software_engineering", ("software engineer", "backend developer", "frontend developer",
                                    "software developer"),
           ("python", "java", "javascript", "sql", "aws", "kubernetes", "react"),
           ("monzo", "deliveroo", "ocado", "skyscanner", "revolut"), 60000),
    Family("nursing", ("staff nurse", "registered nurse", "ward sister", "practice nurse"),
           ("patient care", "medication administration", "triage", "wound care", "nmc registration"),
           ("nhs", "bupa", "spire", "nuffield", "hca"), 33000),
    Family("data_science", ("data scientist", "machine learning engineer", "data analyst", "analytics engineer"),
           ("python", "statistics", "sql", "machine learning", "tableau", "spark"),
           ("dunnhumby", "experian", "bloomberg", "deepmind", "ocado"), 58000),
    Family("retail_sales", ("sales assistant", "store manager", "retail supervisor", "cashier"),
           ("customer service", "merchandising", "stock control", "cash handling", "visual display"),
           ("tesco", "sainsburys", "boots", "next", "primark"), 23000),
    Family("marketing", ("marketing executive", "digital marketer", "content manager", "brand manager"),
           ("seo", "google analytics", "copywriting", "social media", "campaign management"),
           ("wpp", "ogilvy", "unilever", "diageo", "asos"), 38000),
    Family("accounting", ("accountant", "finance analyst", "auditor", "bookkeeper"),
           ("ifrs", "excel", "reconciliation", "payroll", "sage accounting", "tax"),
           ("deloitte", "pwc", "kpmg", "ey", "grant thornton"), 42000),
    Family("teaching", ("primary teacher", "secondary teacher", "teaching assistant", "maths teacher"),
           ("lesson planning", "qts", "classroom management", "safeguarding", "curriculum design"),
           ("academy trust", "county council", "harris federation", "ark schools", "oasis"), 32000),
    Family("logistics", ("warehouse operative", "forklift driver", "logistics coordinator", "picker packer"),
           ("forklift licence", "inventory", "wms", "health and safety", "shipping"),
           ("amazon", "dhl", "royal mail", "wincanton", "xpo"), 24000),
    Family("hospitality", ("chef", "bartender", "waiter", "hotel receptionist"),
           ("food hygiene", "menu planning", "cocktails", "guest relations", "opera pms"),
           ("hilton", "marriott", "whitbread", "mitchells", "pret"), 22000),
    Family("construction_trades", ("bricklayer", "carpenter", "plumber", "plasterer"),
           ("cscs card", "joinery", "pipe fitting", "blueprint reading", "power tools"),
           ("kier", "laing", "taylor wimpey", "persimmon", "barratt"), 31000),
    Family("mechanical_engineering", ("mechanical engineer", "design engineer", "maintenance engineer",
                                      "manufacturing engineer"),
           ("solidworks", "cad", "fea", "lean manufacturing", "thermodynamics"),
           ("rolls royce", "bae systems", "jcb", "dyson", "siemens"), 45000),
    Family("human_resources", ("hr advisor", "recruiter", "talent acquisition partner", "hr business partner"),
           ("employment law", "cipd", "onboarding", "workday", "interviewing"),
           ("hays", "reed", "capita", "randstad", "adecco"), 36000),
    Family("legal", ("solicitor", "paralegal", "legal counsel", "conveyancer"),
           ("contract law", "litigation", "due diligence", "legal research", "compliance"),
           ("clifford chance", "linklaters", "dla piper", "slaughter and may", "irwin mitchell"), 52000),
    Family("customer_support", ("customer service advisor", "call centre agent", "support specialist",
                                "helpdesk analyst"),
           ("zendesk", "call handling", "complaint resolution", "ticketing", "empathy"),
           ("bt", "sky", "vodafone", "ee", "british gas"), 22000),
    Family("graphic_design", ("graphic designer", "ui designer", "illustrator", "motion designer"),
           ("photoshop", "figma", "illustrator cc", "typography", "after effects"),
           ("pentagram", "landor", "bbc", "channel 4", "jkr"), 34000),
    Family("pharmacy", ("pharmacist", "pharmacy technician", "dispenser", "clinical pharmacist"),
           ("dispensing", "gphc registration", "medicines management", "prescriptions"),
           ("boots pharmacy", "lloydspharmacy", "well pharmacy", "superdrug", "nhs trust"), 40000),
    Family("electrical_trades", ("electrician", "electrical engineer", "electrical technician",
                                 "approved electrician"),
           ("18th edition", "wiring", "testing and inspection", "plc", "fault finding"),
           ("spie", "mitie", "ocs", "engie", "emcor"), 35000),
    Family("driving", ("hgv driver", "delivery driver", "van driver", "bus driver"),
           ("cpc", "hgv class 1", "tachograph", "route planning", "clean licence"),
           ("eddie stobart", "stagecoach", "dpd", "evri", "hermes"), 30000),
    Family("project_management", ("project manager", "programme manager", "scrum master", "project coordinator"),
           ("prince2", "agile", "stakeholder management", "jira", "risk management"),
           ("capgemini", "accenture", "ibm", "network rail", "hs2"), 55000),
    Family("cybersecurity", ("security analyst", "penetration tester", "soc analyst", "security engineer"),
           ("siem", "incident response", "iso 27001", "network security", "threat hunting"),
           ("darktrace", "ncc group", "bae applied", "sophos", "mandiant"), 62000),
    Family("social_care", ("care assistant", "support worker", "social worker", "care coordinator"),
           ("personal care", "safeguarding adults", "care planning", "dementia care", "medication"),
           ("barchester", "hc one", "mencap", "care uk", "four seasons"), 24000),
)

FAMILY_INDEX: dict[str, int] = {f.name: i for i, f in enumerate(FAMILIES)}

CAREER_CHANGE_PATH: tuple[tuple[str, int], ...] = (
    ("civil_engineering", 3),
    ("medical_software_training", 2),
    ("account_management", 4),
)
"""The canonical career changer of the write-up: (family, seniority) per phase."""


def family_vocabulary(family: Family) -> tuple[str, ...]:
    """Query tokens a user with this intent searches with: role and skill words."""
    words = {w for role in family.roles for w in role.split()} | {w for s in family.skills for w in s.split()}
    return tuple(sorted(words))
