"""Code lists and the target distributions the synthetic trust is drawn from.

Sources are in docs/synthetic-trust.md. Distributions are tuples of (code, weight) pairs
rather than dicts or sets so that iteration order, and therefore every random draw, is
fixed by the source text alone.
"""

from __future__ import annotations

Weights = tuple[tuple[str, float], ...]

# SEN types of need (DfE census codes) and their broad area (SEND Code of Practice 2015).
BROAD_AREA: tuple[tuple[str, str], ...] = (
    ("SLCN", "Communication and interaction"),
    ("ASD", "Communication and interaction"),
    ("SPLD", "Cognition and learning"),
    ("MLD", "Cognition and learning"),
    ("SLD", "Cognition and learning"),
    ("PMLD", "Cognition and learning"),
    ("SEMH", "Social, emotional and mental health"),
    ("HI", "Sensory and/or physical"),
    ("VI", "Sensory and/or physical"),
    ("MSI", "Sensory and/or physical"),
    ("PD", "Sensory and/or physical"),
    ("OTH", "Cognition and learning"),
    ("NSA", "Cognition and learning"),
    ("DS", "Cognition and learning"),
)
BROAD_AREA_OF = dict(BROAD_AREA)
NEEDS: tuple[str, ...] = tuple(code for code, _ in BROAD_AREA)

# Primary need of pupils with an EHC plan in mainstream schools. National (all schools,
# January 2025) has ASD 33.6%; mainstream plans lean a little more to SLCN and SEMH and
# far less to SLD/PMLD, which are mostly taught in special schools.
MIX_EHCP_MAINSTREAM: Weights = (
    ("ASD", 32.0),
    ("SLCN", 25.0),
    ("SEMH", 17.0),
    ("MLD", 7.0),
    ("SPLD", 4.0),
    ("PD", 4.0),
    ("OTH", 3.0),
    ("DS", 2.5),
    ("HI", 2.0),
    ("SLD", 1.5),
    ("VI", 1.0),
    ("PMLD", 0.5),
    ("MSI", 0.5),
)
# SEN support, national January 2025: SLCN 25.7% the most common, then SEMH, MLD, SPLD.
MIX_SEN_SUPPORT: Weights = (
    ("SLCN", 25.7),
    ("SEMH", 20.5),
    ("MLD", 16.0),
    ("SPLD", 14.5),
    ("ASD", 8.5),
    ("NSA", 5.0),
    ("OTH", 3.5),
    ("PD", 2.3),
    ("HI", 1.6),
    ("VI", 0.8),
    ("SLD", 0.6),
    ("PMLD", 0.4),
    ("DS", 0.3),
    ("MSI", 0.3),
)
# Special schools: a "complex needs" school (autism, severe and profound learning
# difficulties) and an SEMH school, alternating when a trust has several.
MIX_SPECIAL_COMPLEX: Weights = (
    ("ASD", 42.0),
    ("SLD", 20.0),
    ("PMLD", 8.0),
    ("SEMH", 8.0),
    ("SLCN", 8.0),
    ("MLD", 6.0),
    ("DS", 3.0),
    ("PD", 2.0),
    ("OTH", 1.5),
    ("HI", 0.8),
    ("VI", 0.5),
    ("MSI", 0.2),
)
MIX_SPECIAL_SEMH: Weights = (
    ("SEMH", 70.0),
    ("ASD", 20.0),
    ("SLCN", 4.0),
    ("MLD", 3.0),
    ("OTH", 2.0),
    ("SPLD", 1.0),
)

# Mainstream register targets at the start of the year (September). In-year flows (new SEN
# support, new EHC plans) bring the January census close to 5.6-5.8% EHC plan and about
# 14.5% SEN support, between the national January 2025 and 2026 figures.
EHCP_RATE_START = 0.054
SEN_SUPPORT_RATE_START = 0.147
N_TO_K_PER_YEAR = 0.013  # share of no-SEN pupils identified for SEN support in a year
K_TO_E_PER_YEAR = 0.04  # share of SEN support pupils issued an EHC plan in a year
K_TO_N_PER_YEAR = 0.04  # share of SEN support pupils taken off the register in a year
SPECIAL_EHCP_SHARE = 0.95

# Free school meals by SEN status (national January 2025: 43.8% / 39.3% / 22.2%).
FSM_RATE = (("E", 0.438), ("K", 0.393), ("N", 0.222))
# Boys are over-represented among pupils with SEN (roughly 2.5:1 for EHC plans).
MALE_RATE = (("E", 0.73), ("K", 0.64), ("N", 0.47))

# DfE main ethnicity codes with approximate national shares of pupils.
ETHNICITY: Weights = (
    ("WBRI", 0.620),
    ("WIRI", 0.003),
    ("WIRT", 0.002),
    ("WROM", 0.004),
    ("WOTH", 0.075),
    ("MWBC", 0.018),
    ("MWBA", 0.009),
    ("MWAS", 0.017),
    ("MOTH", 0.024),
    ("AIND", 0.038),
    ("APKN", 0.048),
    ("ABAN", 0.019),
    ("AOTH", 0.021),
    ("BCRB", 0.010),
    ("BAFR", 0.043),
    ("BOTH", 0.006),
    ("CHNE", 0.007),
    ("OOTH", 0.023),
    ("REFU", 0.005),
    ("NOBT", 0.008),
)
# Per ethnicity: name pool, chance that the first language is not English, and the
# first languages (ISO 639-2/B, as in the CTF). Tuned so about 20% are not ENG.
ETHNIC_PROFILE: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
    ("WBRI", "english", 0.003, ("WEL",)),
    ("WIRI", "english", 0.02, ("GLE",)),
    ("WIRT", "english", 0.02, ("GLE",)),
    ("WROM", "central_european", 0.7, ("RUM", "SLO", "CZE")),
    (
        "WOTH",
        "central_european",
        0.8,
        ("POL", "RUM", "LIT", "POR", "SPA", "ITA", "BUL", "HUN", "FRE", "GER", "LAV"),
    ),
    ("MWBC", "caribbean", 0.02, ("FRE",)),
    ("MWBA", "african", 0.15, ("FRE", "POR", "SOM")),
    ("MWAS", "south_asian", 0.15, ("URD", "PAN", "BEN")),
    ("MOTH", "english", 0.15, ("SPA", "ARA", "POR")),
    ("AIND", "south_asian", 0.5, ("GUJ", "PAN", "TAM", "TEL", "HIN", "MAL")),
    ("APKN", "south_asian", 0.65, ("URD", "PAN", "PUS")),
    ("ABAN", "south_asian", 0.8, ("BEN",)),
    ("AOTH", "south_asian", 0.65, ("TAM", "PER", "PUS", "NEP", "SIN")),
    ("BCRB", "caribbean", 0.02, ("FRE",)),
    ("BAFR", "african", 0.6, ("SOM", "YOR", "IBO", "TWI", "ARA", "FRE", "POR", "AMH", "TIR")),
    ("BOTH", "african", 0.4, ("FRE", "POR", "SOM")),
    ("CHNE", "chinese", 0.6, ("CHI",)),
    ("OOTH", "other", 0.75, ("ARA", "KUR", "PER", "TUR", "VIE", "SPA", "TGL")),
    ("REFU", "english", 0.1, ("POL", "ARA")),
    ("NOBT", "english", 0.1, ("POL", "ARA")),
)

# Attendance register codes, index = code number used in the attendance matrix.
ATTENDANCE_CODES: tuple[str, ...] = (
    "/",
    "\\",
    "L",
    "I",
    "M",
    "C",
    "O",
    "G",
    "N",
    "U",
    "V",
    "P",
    "B",
    "C2",
    "E",
    "R",
)
ATT = {code: i for i, code in enumerate(ATTENDANCE_CODES)}
PRESENT_CODES = ("/", "\\", "L", "V", "P", "B")  # count as attending
UNAUTHORISED_CODES = ("O", "G", "N", "U")
# Codes under which a pupil is in school and can be observed by their own staff.
IN_SCHOOL_CODES = ("/", "\\", "L")

# Suspension reasons with rough national weights (persistent disruption the largest).
EXCLUSION_REASONS: Weights = (
    ("DB", 40.0),
    ("VA", 14.0),
    ("PA", 9.0),
    ("PP", 11.0),
    ("VP", 7.0),
    ("DM", 4.0),
    ("DA", 3.5),
    ("OW", 2.0),
    ("BU", 2.0),
    ("RA", 1.0),
    ("TH", 1.5),
    ("MT", 1.5),
    ("SM", 1.0),
    ("LG", 0.5),
    ("DS", 0.5),
)

ACTIVITIES: tuple[str, ...] = (
    "maths",
    "english",
    "science",
    "pe",
    "art",
    "music",
    "phonics",
    "reading",
    "topic",
    "break",
    "lunch",
    "transition",
    "assembly",
    "arrival",
    "home_time",
    "therapy",
    "free_choice",
)
ACT = {name: i for i, name in enumerate(ACTIVITIES)}
SETTINGS: tuple[str, ...] = (
    "classroom",
    "hall",
    "playground",
    "dining_hall",
    "corridor",
    "sensory_room",
    "library",
    "outdoor_area",
    "small_group_room",
    "minibus",
)
# Where each activity happens: (setting, weight) per activity.
ACTIVITY_SETTINGS: tuple[tuple[str, Weights], ...] = (
    ("maths", (("classroom", 0.85), ("small_group_room", 0.15))),
    ("english", (("classroom", 0.85), ("small_group_room", 0.15))),
    ("science", (("classroom", 0.9), ("outdoor_area", 0.1))),
    ("pe", (("hall", 0.6), ("outdoor_area", 0.4))),
    ("art", (("classroom", 1.0),)),
    ("music", (("classroom", 0.7), ("hall", 0.3))),
    ("phonics", (("classroom", 0.7), ("small_group_room", 0.3))),
    ("reading", (("classroom", 0.6), ("library", 0.3), ("small_group_room", 0.1))),
    ("topic", (("classroom", 0.9), ("outdoor_area", 0.1))),
    ("break", (("playground", 0.9), ("classroom", 0.1))),
    ("lunch", (("dining_hall", 0.6), ("playground", 0.4))),
    ("transition", (("corridor", 1.0),)),
    ("assembly", (("hall", 1.0),)),
    ("arrival", (("classroom", 0.8), ("corridor", 0.2))),
    ("home_time", (("classroom", 0.7), ("playground", 0.3))),
    ("therapy", (("sensory_room", 0.5), ("small_group_room", 0.5))),
    ("free_choice", (("classroom", 0.5), ("sensory_room", 0.3), ("outdoor_area", 0.2))),
)

# Strategy catalogue: code, name, category.
STRATEGIES: tuple[tuple[str, str, str], ...] = (
    ("sensory_break", "Sensory break", "sensory"),
    ("movement_break", "Movement break", "movement"),
    ("now_next_board", "Now and next board", "structure"),
    ("visual_timetable", "Visual timetable", "structure"),
    ("calm_corner", "Calm corner", "calming"),
    ("deep_pressure", "Deep pressure activity", "sensory"),
    ("ear_defenders", "Ear defenders", "sensory"),
    ("choice_offered", "Choice offered", "communication"),
    ("first_then", "First-then instruction", "structure"),
    ("breathing_exercise", "Breathing exercise", "calming"),
    ("fidget_tool", "Fidget tool", "sensory"),
    ("social_story", "Social story", "communication"),
    ("adult_check_in", "Adult check-in", "relational"),
    ("countdown_timer", "Countdown timer", "structure"),
    ("quiet_work_space", "Quiet work space", "calming"),
)
STRATEGY_CODES: tuple[str, ...] = tuple(code for code, _, _ in STRATEGIES)
# Strategies staff tend to reach for, by primary need.
STRATEGIES_FOR_NEED: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "ASD",
        (
            "visual_timetable",
            "now_next_board",
            "ear_defenders",
            "sensory_break",
            "first_then",
            "countdown_timer",
            "social_story",
            "quiet_work_space",
        ),
    ),
    (
        "SEMH",
        (
            "calm_corner",
            "breathing_exercise",
            "adult_check_in",
            "choice_offered",
            "movement_break",
            "quiet_work_space",
        ),
    ),
    (
        "SLCN",
        ("now_next_board", "visual_timetable", "choice_offered", "social_story", "first_then"),
    ),
    (
        "MLD",
        ("countdown_timer", "first_then", "movement_break", "adult_check_in", "quiet_work_space"),
    ),
    ("SPLD", ("quiet_work_space", "countdown_timer", "movement_break", "adult_check_in")),
    ("SLD", ("sensory_break", "deep_pressure", "now_next_board", "fidget_tool", "movement_break")),
    ("PMLD", ("sensory_break", "deep_pressure", "movement_break", "fidget_tool")),
    ("DS", ("now_next_board", "first_then", "movement_break", "choice_offered")),
    ("HI", ("quiet_work_space", "adult_check_in", "visual_timetable")),
    ("VI", ("adult_check_in", "quiet_work_space", "countdown_timer")),
    ("MSI", ("sensory_break", "adult_check_in", "deep_pressure")),
    ("PD", ("movement_break", "adult_check_in", "quiet_work_space")),
    ("OTH", ("adult_check_in", "movement_break", "fidget_tool", "calm_corner")),
    ("NSA", ("adult_check_in", "movement_break", "fidget_tool", "calm_corner")),
)

# Intervention catalogue: code, name, broad area, target need, measure, group size,
# minutes per session, hourly staff cost, materials cost, training cost (GBP).
INTERVENTIONS: tuple[tuple[str, str, str, str, str, int, int, float, float, float], ...] = (
    (
        "phonics_catch_up",
        "Phonics catch-up",
        "Cognition and learning",
        "SPLD",
        "standardised_score",
        4,
        20,
        15.50,
        120.0,
        250.0,
    ),
    (
        "precision_teaching",
        "Precision teaching",
        "Cognition and learning",
        "MLD",
        "standardised_score",
        1,
        10,
        15.50,
        20.0,
        150.0,
    ),
    (
        "speech_language_group",
        "Speech and language group",
        "Communication and interaction",
        "SLCN",
        "rating",
        4,
        30,
        15.50,
        80.0,
        300.0,
    ),
    (
        "social_skills_group",
        "Social skills group",
        "Communication and interaction",
        "ASD",
        "rating",
        6,
        30,
        15.50,
        60.0,
        200.0,
    ),
    (
        "elsa",
        "Emotional literacy support (ELSA)",
        "Social, emotional and mental health",
        "SEMH",
        "rating",
        1,
        30,
        16.50,
        40.0,
        600.0,
    ),
    (
        "lego_therapy",
        "Lego-based therapy",
        "Communication and interaction",
        "ASD",
        "rating",
        3,
        30,
        15.50,
        150.0,
        100.0,
    ),
    (
        "maths_catch_up",
        "Maths catch-up",
        "Cognition and learning",
        "MLD",
        "standardised_score",
        4,
        30,
        15.50,
        90.0,
        200.0,
    ),
    (
        "fine_motor",
        "Handwriting and fine motor skills",
        "Sensory and/or physical",
        "PD",
        "rating",
        6,
        20,
        15.50,
        70.0,
        50.0,
    ),
    (
        "sensory_circuits",
        "Sensory circuits",
        "Sensory and/or physical",
        "ASD",
        "rating",
        8,
        15,
        15.50,
        200.0,
        80.0,
    ),
    (
        "reading_comprehension",
        "Reading comprehension group",
        "Cognition and learning",
        "SPLD",
        "reading_age_months",
        4,
        30,
        15.50,
        100.0,
        150.0,
    ),
)

# ABC incident vocabularies.
ANTECEDENTS: tuple[str, ...] = (
    "transition",
    "demand_placed",
    "denied_item",
    "unstructured_time",
    "noise",
    "peer_conflict",
    "change_of_routine",
    "waiting",
)
BEHAVIOURS: tuple[str, ...] = (
    "verbal_outburst",
    "leaving_area",
    "physical_aggression",
    "refusal",
    "self_injury",
    "property_damage",
    "shutdown",
)
CONSEQUENCES: tuple[str, ...] = (
    "calm_space_offered",
    "adult_support",
    "planned_ignoring",
    "removed_from_activity",
    "restorative_conversation",
)

STAFF_ROLES: tuple[str, ...] = (
    "teacher",
    "teaching_assistant",
    "senco",
    "dsl",
    "therapist",
    "pastoral",
    "leader",
)

TRAINING_COURSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ASD", ("Autism awareness", "Autism and anxiety", "Structured teaching approaches")),
    (
        "SLCN",
        (
            "Supporting speech and language",
            "Colourful semantics",
            "Signing and symbols for communication",
        ),
    ),
    (
        "SEMH",
        (
            "Trauma-informed practice",
            "Emotion coaching",
            "De-escalation and support",
            "Attachment awareness",
        ),
    ),
    ("MLD", ("Precision teaching", "Scaffolding for learning", "Maths manipulatives")),
    ("SPLD", ("Dyslexia-friendly classrooms", "Structured phonics for older learners")),
    ("SLD", ("Intensive interaction", "Sensory learning")),
    ("PMLD", ("Moving and handling", "Sensory stories")),
    ("PD", ("Moving and handling", "Adapting the environment")),
    ("HI", ("Deaf awareness",)),
    ("VI", ("Vision impairment awareness",)),
    ("MSI", ("Multi-sensory impairment awareness",)),
    ("DS", ("Supporting learners with Down syndrome",)),
    ("OTH", ("Medical needs in school",)),
)

OBSERVATION_NOTES: tuple[str, ...] = (
    "Settled quickly.",
    "Needed reminders to stay on task.",
    "Enjoyed the group activity.",
    "Quiet today.",
    "Tired in the afternoon.",
    "Good focus during the task.",
    "Asked for help appropriately.",
    "Found the noise difficult.",
    "Chose to work independently.",
    "Joined in with peers.",
)
STRATEGY_NOTES: tuple[str, ...] = (
    "Used with one adult prompt.",
    "Asked for it independently.",
    "Took a few minutes to settle.",
    "Returned to class afterwards.",
    "Shorter than usual.",
)
