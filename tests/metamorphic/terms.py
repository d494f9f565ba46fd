"""Test-side terminology for the metamorphic variants: crosswalks, OIDs, local
flowsheet codes, vertebral levels and clinician phrasing.

Every pair names its source. "fc §N" = /work/shared/reference/fhir-coding.md
section N; "fixtures README" = tests/fixtures/patients/README.md (codes the
fixtures use that fhir-coding.md does not list); "WHO 2019" = the WHO ICD-10
2019 tabular list (https://icd.who.int/browse10/2019/en), used only where
fhir-coding.md names no WHO code, and flagged so in the README. This file is
the oracle of the tests, not of the adapter: never import it from the adapter.
"""

SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
MST_OBS = "http://mst-adapter.example.org/fhir/CodeSystem/mst-observation"
CONDITION_RELATED = "http://hl7.org/fhir/StructureDefinition/condition-related"

# ---- ICD-10-CM <-> SNOMED CT ------------------------------------------------
# (icd10cm, snomed, note, source). "note" says what one side has that the
# other lacks, when that is something the adapter does not use (laterality,
# subsite); pairs that lose something the adapter uses are not listed.
ICD_SCT = [
    ("C79.51", "94222008", "", "fc §2a, §16.5"),
    ("C78.7", "94381002", "", "fixtures README"),
    ("C78.00", "94391008", "ICD names laterality (unspecified)", "fixtures README"),
    ("C64.1", "363518003", "ICD names laterality (right)", "fc §1a (C64.x), §1b"),
    ("C64.9", "363518003", "", "fc §1a, §1b"),
    ("C50.912", "254837009", "ICD names side and sex", "fc §1a (C50.x), §1b"),
    ("C50.919", "254837009", "", "fc §1a, §1b"),
    ("C61", "399068003", "", "fc §1a, §1b"),
    ("C73", "363478007", "", "fc §1a, §1b"),
    ("C18.7", "363406005", "ICD names the subsite (sigmoid)", "fc §1a (C18.x), §1b"),
    ("C18.9", "363406005", "", "fc §1a, §1b"),
    ("C20", "363351006", "", "fc §1a, §1b"),
    ("C43.9", "93655004", "", "fc §1a, §1b"),
    ("C90.00", "109989006", "ICD names remission status (not in remission)", "fc §16.6"),
    ("C85.90", "118601006", "", "fc §1a, §1b"),
    ("E11.9", "44054006", "ICD says 'without complications'", "fc §7"),
    ("I10", "59621000", "", "fc §7"),
    ("D64.9", "271737000", "", "fc §7 (SNOMED partial)"),
    ("M54.50", "279039007", "", "fc §5, §16.3"),
    ("M54.9", "161891005", "", "fc §16.3 (SNOMED partial)"),
    ("M84.58XA", "866087009", "ICD: 'other specified site' (vertebra falls here), initial encounter", "fc §9"),
    ("G83.4", "192970008", "", "fc §8, §16.1"),
    ("G95.20", "71286001", "", "fc §16.1 (SNOMED partial)"),
    ("G95.29", "71286001", "", "fc §16.1 (SNOMED partial)"),
    ("M54.2", "81680005", "", "fc §16.3 (SNOMED partial)"),
    ("C81.90", "118599009", "ICD says 'unspecified site'", "fc §1a, §1b"),
    ("N18.30", "433144002", "", "fc §7"),
]
ICD_TO_SCT = {}
for _icd, _sct, _note, _src in ICD_SCT:
    ICD_TO_SCT.setdefault(_icd, (_sct, _src))

# SNOMED -> ICD-10-CM. The spine-region metastasis concepts map to C79.51 only
# when the Condition names its level in bodySite: ICD-10-CM has no
# spine-specific metastasis code (fc summary and §16.5 "No level in ICD codes").
SCT_TO_ICD = {
    "94222008": ("C79.51", "fc §2a, §16.5"),
    "94381002": ("C78.7", "fixtures README"),
    "94391008": ("C78.00", "fixtures README"),
    "363518003": ("C64.9", "fc §1a, §1b"),
    "254837009": ("C50.919", "fc §1a, §1b"),
    "399068003": ("C61", "fc §1a, §1b"),
    "363478007": ("C73", "fc §1a, §1b"),
    "363406005": ("C18.9", "fc §1a, §1b"),
    "363351006": ("C20", "fc §1a, §1b"),
    "93655004": ("C43.9", "fc §1a, §1b"),
    "109989006": ("C90.00", "fc §16.6"),
    "118601006": ("C85.90", "fc §1a, §1b"),
    "44054006": ("E11.9", "fc §7"),
    "59621000": ("I10", "fc §7"),
    "271737000": ("D64.9", "fc §7"),
    "279039007": ("M54.50", "fc §5, §16.3"),
    "866087009": ("M84.58XA", "fc §9"),
    "192970008": ("G83.4", "fc §8, §16.1"),
    "12454008": ("G83.4", "fc §16.1 (subtype of cauda equina syndrome)"),
    "71286001": ("G95.20", "fc §16.1"),
    "433144002": ("N18.30", "fc §7"),
    "118599009": ("C81.90", "fc §1a, §1b"),
}
SPINE_REGION_METS = {
    "94602001": "vertebral column",
    "94250008": "cervical vertebral column",
    "94274006": "thoracic vertebral column",
    "94389000": "lumbar vertebral column",
    "94527001": "sacrum",
}  # fc §2a; -> C79.51 when a vertebral bodySite is present
# Combined "primary X metastatic to bone": -> C79.51 only when the Condition
# links its primary (condition-related), which then carries the primary site.
COMBINED_BONE_METS = {"424887002": "thyroid", "712849003": "prostate"}  # fc §2a

# ---- LOINC -> SNOMED CT (observations, snomed-only) ------------------------
LOINC_TO_SCT = {
    "89247-1": ("423740007", "fc §4 (SNOMED observable, partial)"),
    "89243-0": ("761869008", "fc §4"),
    "LA9622-7": ("425389002", "fc §4 (MII ConceptMap)"),
    "LA9623-5": ("422512005", "fc §4 (MII ConceptMap)"),
    "LA9624-3": ("422894000", "fc §4 (MII ConceptMap)"),
    "LA9625-0": ("423053003", "fc §4 (MII ConceptMap)"),
    "LA9626-8": ("423237006", "fc §4 (MII ConceptMap)"),
}

# ---- ICD-10-CM -> WHO ICD-10 -----------------------------------------------
CM_TO_WHO = {
    "C79.51": ("C79.5", "fc §16.4, §16.5"),
    "C79.52": ("C79.5", "fc §16.5"),
    "C90.00": ("C90.0", "fc §16.6"),
    "C90.30": ("C90.3", "fc §16.6"),
    "C83.30": ("C83.3", "fc §16.6"),
    "C41.2": ("C41.2", "fc §16.6"),
    "C41.4": ("C41.4", "fc §16.6"),
    "M54.50": ("M54.5", "fc §16.3"),
    "M54.2": ("M54.2", "fc §16.3"),
    "M54.6": ("M54.6", "fc §16.3"),
    "G95.20": ("G95.2", "fc §16.1"),
    "G95.29": ("G95.2", "fc §16.1"),
    "G83.4": ("G83.4", "fc §16.1"),
    # Not in fhir-coding.md: the WHO 2019 tabular list.
    "C64.1": ("C64", "WHO 2019 (C64 is a leaf; laterality is CM-only)"),
    "C64.9": ("C64", "WHO 2019"),
    "C50.912": ("C50.9", "WHO 2019"),
    "C50.919": ("C50.9", "WHO 2019"),
    "C34.11": ("C34.1", "WHO 2019"),
    "C34.32": ("C34.3", "WHO 2019"),
    "C34.90": ("C34.9", "WHO 2019"),
    "C61": ("C61", "WHO 2019"),
    "C73": ("C73", "WHO 2019"),
    "C18.7": ("C18.7", "WHO 2019"),
    "C20": ("C20", "WHO 2019"),
    "C43.9": ("C43.9", "WHO 2019"),
    "C78.00": ("C78.0", "WHO 2019"),
    "C78.7": ("C78.7", "WHO 2019"),
    "C79.70": ("C79.7", "WHO 2019"),
    "C80.1": ("C80.0", "WHO 2019 (C80.0 'primary site unknown, so stated')"),
    "D63.0": ("D63.0", "WHO 2019"),
    "D64.9": ("D64.9", "WHO 2019"),
    "E11.9": ("E11.9", "WHO 2019"),
    "I10": ("I10", "WHO 2019"),
    "G82.21": ("G82.2", "WHO 2019 (complete/incomplete is CM-only)"),
    "M54.9": ("M54.9", "WHO 2019"),
    "M47.816": ("M47.8", "WHO 2019 (region is CM-only)"),
    "C18.9": ("C18.9", "WHO 2019"),
    "C81.90": ("C81.9", "WHO 2019"),
    "G82.20": ("G82.2", "WHO 2019"),
    "G82.22": ("G82.2", "WHO 2019 (complete/incomplete is CM-only)"),
    "J44.9": ("J44.9", "WHO 2019"),
    "N18.30": ("N18.3", "WHO 2019"),
    "R33.9": ("R33", "WHO 2019 (R33 retention of urine is a leaf)"),
    "M84.58XA": ("M84.5", "WHO 2019 (M84.5 pathological fracture in neoplastic disease; unverified here)"),
}
# G89.3 (neoplasm related pain) has no WHO ICD-10 counterpart: G89 is a
# CM-only category, so the who-icd10 variant keeps it and says so.

# ---- urn:oid system identifiers ----------------------------------------------
OID_SYSTEMS = {
    SCT: ("urn:oid:2.16.840.1.113883.6.96", "FHIR-R4-NS (fc §16.0)"),
    ICD10CM: ("urn:oid:2.16.840.1.113883.6.90", "fc §16.4"),
    LOINC: ("urn:oid:2.16.840.1.113883.6.1", "FHIR-R4-NS (fc §16.0)"),
    ICD10: ("urn:oid:2.16.840.1.113883.6.3", "fc §16.4"),
    RXNORM: ("urn:oid:2.16.840.1.113883.6.88", "fc §16.4"),
}

# ---- local flowsheet codes (local-codes) -------------------------------------
LOCAL_ROW = "http://hospital.example.org/fhir/CodeSystem/flowsheet-row"
LOCAL_ANSWER = "http://hospital.example.org/fhir/CodeSystem/flowsheet-answer"
LOCAL_CONCEPT_MAP_URL = "http://hospital.example.org/fhir/ConceptMap/flowsheet-to-standard"
# (system, code) -> (local code, flowsheet display). Codes not listed get
# "FS-" + their code, so bundles added later still get a local code.
LOCAL_CODES = {
    (MST_OBS, "sins-total"): ("3041", "SPINE ONC - SINS TOTAL"),
    (MST_OBS, "sins-location"): ("3042", "SPINE ONC - SINS LOCATION PTS"),
    (MST_OBS, "sins-pain"): ("3043", "SPINE ONC - SINS PAIN PTS"),
    (MST_OBS, "sins-bone-lesion"): ("3044", "SPINE ONC - SINS LESION PTS"),
    (MST_OBS, "sins-alignment"): ("3045", "SPINE ONC - SINS ALIGNMENT PTS"),
    (MST_OBS, "sins-collapse"): ("3046", "SPINE ONC - SINS COLLAPSE PTS"),
    (MST_OBS, "sins-posterolateral"): ("3047", "SPINE ONC - SINS POSTEROLAT PTS"),
    (MST_OBS, "escc-grade"): ("3050", "SPINE ONC - EPIDURAL GRADE"),
    (MST_OBS, "estimated-survival-months"): ("3060", "ONC - PROGNOSIS MONTHS"),
    (MST_OBS, "treatment-preference"): ("3070", "PT PREFERENCE - TREATMENT"),
    (MST_OBS, "ambulatory-status"): ("1120", "PT MOBILITY - AMBULATION"),
    (LOINC, "89247-1"): ("1201", "ONC - PERF STATUS (ECOG)"),
    (LOINC, "89243-0"): ("1202", "ONC - PERF STATUS (KARNOFSKY)"),
    (LOINC, "72514-3"): ("1001", "PAIN SCORE (0-10)"),
    (LOINC, "718-7"): ("LAB-HGB", "HGB"),
    (LOINC, "4548-4"): ("LAB-A1C", "HBA1C"),
    (LOINC, "85354-9"): ("1010", "BP"),
    (LOINC, "8480-6"): ("1011", "BP SYSTOLIC"),
    (LOINC, "8462-4"): ("1012", "BP DIASTOLIC"),
    (LOINC, "81380-8"): ("3071", "PT GOALS AND PREFERENCES"),
}

# ---- vertebral levels (fc §3b) and spine regions (fc §3a) --------------------
LEVEL_CODES = {
    "14806007": "C1", "39976000": "C2", "91116008": "C3", "14705001": "C4", "67479001": "C5",
    "88298007": "C6", "16126006": "C7", "56094003": "T1", "50060007": "T2", "73138009": "T3",
    "86197001": "T4", "6105006": "T5", "32430008": "T6", "71737002": "T7", "77435000": "T8",
    "33766003": "T9", "48405002": "T10", "52120002": "T11", "280849005": "T12", "61032001": "L1",
    "53983007": "L2", "55492004": "L3", "71996003": "L4", "21799000": "L5", "65985001": "S1",
    "11808007": "S2", "49967005": "S3", "69950008": "S4", "21452006": "S5",
}
REGION_TEXT = {
    "421060004": "Spine", "44300000": "Whole spine", "51282000": "Spine",
    "122494005": "Cervical spine", "122495006": "Thoracic spine", "122496007": "Lumbar spine",
    "35769007": "Thoracic vertebra", "73903008": "Lumbar vertebra", "87141009": "Sacrum",
    "1145011002": "Cervicothoracic junction", "1145014005": "Thoracolumbar junction",
    "1145012009": "Lumbosacral junction",
}

# ---- how a clinician writes it (text-only) ----------------------------------
PHRASES = {
    (MST_OBS, "sins-total"): "Spinal Instability Neoplastic Score (SINS)",
    (MST_OBS, "sins-location"): "SINS location",
    (MST_OBS, "sins-pain"): "SINS pain",
    (MST_OBS, "sins-bone-lesion"): "SINS bone lesion quality",
    (MST_OBS, "sins-alignment"): "SINS spinal alignment",
    (MST_OBS, "sins-collapse"): "SINS vertebral body collapse",
    (MST_OBS, "sins-posterolateral"): "SINS posterolateral involvement",
    (MST_OBS, "escc-grade"): "Bilsky ESCC grade",
    (MST_OBS, "estimated-survival-months"): "Estimated life expectancy",
    (MST_OBS, "treatment-preference"): "Treatment preference",
    (MST_OBS, "ambulatory-status"): "Ambulatory status",
    (LOINC, "89247-1"): "ECOG performance status",
    (LOINC, "89243-0"): "Karnofsky performance status",
    (LOINC, "72514-3"): "Pain score (NRS 0-10)",
    (LOINC, "718-7"): "Haemoglobin",
    (LOINC, "4548-4"): "HbA1c",
    (LOINC, "85354-9"): "Blood pressure",
    (LOINC, "8480-6"): "Systolic blood pressure",
    (LOINC, "8462-4"): "Diastolic blood pressure",
    (LOINC, "81380-8"): "Patient's goals and preferences",
    # answers
    (LOINC, "LA9622-7"): "ECOG 0",
    (LOINC, "LA9623-5"): "ECOG 1",
    (LOINC, "LA9624-3"): "ECOG 2",
    (LOINC, "LA9625-0"): "ECOG 3",
    (LOINC, "LA9626-8"): "ECOG 4",
    (LOINC, "LA33475-7"): "Comfort-focused treatment",
    (LOINC, "LA33473-2"): "Full treatment",
    (LOINC, "LA33474-0"): "Selective treatment",
}

# ---- units (other-units) ----------------------------------------------------
# Haemoglobin: 1 g/dL = 10 g/L; 1 g/dL = 0.6206 mmol/L on the monomer
# convention (Hb monomer 16 114.5 g/mol: 10 g/L / 16.1145 g/mmol = 0.6206
# mmol/L; the adapter's table uses the inverse, 1.611). HbA1c: IFCC-NGSP
# master equation NGSP % = 0.09148 x IFCC mmol/mol + 2.152 (Hoelzel et al.,
# Clin Chem 2004;50:166-74; the adapter's observations.json uses the same).
HB_MMOL_PER_G_DL = 0.6206
HBA1C_NGSP_SLOPE = 0.09148
HBA1C_NGSP_INTERCEPT = 2.152
