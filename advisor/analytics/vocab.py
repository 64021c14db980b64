"""Words a question uses for regions, therapy areas, modalities, deal types, stages and targets,
mapped onto the values the deal records use."""

from __future__ import annotations

from advisor.ingest.deals import COUNTRIES

# --- regions: a phrase names a set of headquarters countries ---------------------------------------
CHINA = ("China", "Hong Kong")
GREATER_CHINA = ("China", "Hong Kong", "Taiwan")
NORTH_AMERICA = ("United States", "Canada")
EUROPE = ("United Kingdom", "Switzerland", "Germany", "France", "Denmark", "Belgium", "Netherlands",
          "Ireland", "Sweden", "Spain", "Italy")
WEST = NORTH_AMERICA + EUROPE
ASIA = ("China", "Hong Kong", "Taiwan", "Japan", "South Korea", "Singapore", "India")

# label used in answers -> countries
REGION_GROUPS: dict[str, tuple[str, ...]] = {
    "China (incl. Hong Kong)": CHINA,
    "mainland China": ("China",),
    "Greater China (China, Hong Kong, Taiwan)": GREATER_CHINA,
    "the West (North America and Europe)": WEST,
    "Europe": EUROPE,
    "North America": NORTH_AMERICA,
    "Asia": ASIA,
    **{country: (country,) for country in COUNTRIES},
}

REGION_PHRASES: dict[str, str] = {
    "china": "China (incl. Hong Kong)", "chinese": "China (incl. Hong Kong)", "prc": "China (incl. Hong Kong)",
    "mainland china": "mainland China", "mainland chinese": "mainland China",
    # the tracker's headquarters field keeps Hong Kong apart, so a headquarters phrase means that field's "China"
    "china headquartered": "mainland China", "headquartered in china": "mainland China",
    "china based": "mainland China", "based in china": "mainland China",
    "greater china": "Greater China (China, Hong Kong, Taiwan)",
    "hong kong": "Hong Kong", "taiwan": "Taiwan", "taiwanese": "Taiwan",
    "japan": "Japan", "japanese": "Japan",
    "korea": "South Korea", "korean": "South Korea", "south korea": "South Korea", "south korean": "South Korea",
    "singapore": "Singapore", "singaporean": "Singapore", "australia": "Australia", "australian": "Australia",
    "india": "India", "indian": "India",
    "united states": "United States", "usa": "United States", "america": "United States",
    "american": "United States", "us based": "United States",
    "united kingdom": "United Kingdom", "britain": "United Kingdom", "british": "United Kingdom",
    "switzerland": "Switzerland", "swiss": "Switzerland", "germany": "Germany", "german": "Germany",
    "france": "France", "french": "France", "denmark": "Denmark", "danish": "Denmark",
    "belgium": "Belgium", "belgian": "Belgium", "netherlands": "Netherlands", "dutch": "Netherlands",
    "ireland": "Ireland", "irish": "Ireland", "sweden": "Sweden", "swedish": "Sweden",
    "israel": "Israel", "israeli": "Israel", "canada": "Canada", "canadian": "Canada",
    "spain": "Spain", "spanish": "Spain", "italy": "Italy", "italian": "Italy",
    "europe": "Europe", "european": "Europe",
    "north america": "North America", "north american": "North America",
    "west": "the West (North America and Europe)", "western": "the West (North America and Europe)",
    "asia": "Asia", "asian": "Asia",
}
# written in capitals only: "US" is a country, "us" a pronoun
CASED_REGION_PHRASES: dict[str, str] = {"US": "United States", "UK": "United Kingdom", "EU": "Europe"}


def home_region(countries: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """What 'outside' means for out-licensing from these countries: Greater China for Chinese licensors."""
    if set(countries) <= set(GREATER_CHINA):
        return GREATER_CHINA
    return tuple(countries)


# --- deal attributes -------------------------------------------------------------------------------
THERAPY_AREAS = ("oncology", "immunology", "cardiometabolic", "neurology", "infectious-disease", "ophthalmology",
                 "rare-disease", "respiratory", "haematology", "dermatology", "other")
THERAPY_PHRASES: dict[str, str] = {
    **{w: "oncology" for w in ("oncology", "cancer", "cancers", "tumour", "tumours", "tumor", "tumors",
                               "oncologic", "oncological", "solid tumour", "solid tumours", "solid tumor")},
    **{w: "immunology" for w in ("immunology", "autoimmune", "autoimmunity", "inflammation", "inflammatory",
                                 "i & i", "immune mediated", "immunological")},
    **{w: "cardiometabolic" for w in ("cardiometabolic", "cardiovascular", "cardiology", "metabolic", "obesity",
                                      "diabetes", "mash", "nash", "weight loss", "lipid", "heart")},
    **{w: "neurology" for w in ("neurology", "neuroscience", "cns", "neurological", "alzheimer", "alzheimers",
                                "parkinson", "parkinsons", "psychiatry", "psychiatric", "epilepsy", "neuro")},
    **{w: "infectious-disease" for w in ("infectious disease", "infectious diseases", "infectious", "infection",
                                         "infections", "antiviral", "covid", "covid 19")},
    **{w: "rare-disease" for w in ("rare disease", "rare diseases", "orphan")},
    **{w: "respiratory" for w in ("respiratory", "copd", "asthma")},
    **{w: "ophthalmology" for w in ("ophthalmology", "ophthalmic", "eye", "retinal")},
    **{w: "haematology" for w in ("haematology", "hematology")},
    **{w: "dermatology" for w in ("dermatology", "skin", "atopic dermatitis")},
}

MODALITIES = ("small molecule", "ADC", "AI platform", "bispecific antibody", "antibody", "protein", "cell therapy",
              "other", "peptide", "siRNA", "gene therapy", "mRNA", "vaccine", "radiopharmaceutical")
MODALITY_PHRASES: dict[str, str] = {
    **{w: "ADC" for w in ("adc", "adcs", "antibody drug conjugate", "antibody drug conjugates")},
    **{w: "bispecific antibody" for w in ("bispecific", "bispecifics", "bispecific antibody", "bispecific antibodies",
                                          "bi specific", "bi specifics", "multispecific", "multispecifics",
                                          "trispecific", "trispecifics", "t cell engager", "t cell engagers")},
    **{w: "antibody" for w in ("antibody", "antibodies", "mab", "mabs", "monoclonal", "monoclonals",
                               "monoclonal antibody", "monoclonal antibodies")},
    **{w: "small molecule" for w in ("small molecule", "small molecules")},
    **{w: "cell therapy" for w in ("cell therapy", "cell therapies", "car t", "cart", "car ts")},
    **{w: "gene therapy" for w in ("gene therapy", "gene therapies")},
    **{w: "mRNA" for w in ("mrna",)},
    **{w: "siRNA" for w in ("sirna", "rnai")},
    **{w: "peptide" for w in ("peptide", "peptides")},
    **{w: "protein" for w in ("protein", "proteins", "fusion protein", "fusion proteins")},
    **{w: "vaccine" for w in ("vaccine", "vaccines")},
    **{w: "radiopharmaceutical" for w in ("radiopharmaceutical", "radiopharmaceuticals", "radioligand",
                                          "radioligands")},
    **{w: "AI platform" for w in ("ai platform", "ai platforms")},
}

DEAL_TYPES = ("licence", "option", "co-development", "acquisition", "NewCo", "partnership", "AI research")
DEAL_TYPE_PHRASES: dict[str, str] = {
    **{w: "licence" for w in ("licence", "licences", "license", "licenses", "licensing", "licencing")},
    **{w: "option" for w in ("option", "options", "option deal", "option deals")},
    **{w: "co-development" for w in ("co development", "codevelopment", "co dev", "co developments")},
    **{w: "acquisition" for w in ("acquisition", "acquisitions", "m & a", "buyout", "buyouts", "takeover",
                                  "takeovers")},
    **{w: "NewCo" for w in ("newco", "newcos", "new co", "new cos")},
    **{w: "partnership" for w in ("partnership", "partnerships")},
    **{w: "AI research" for w in ("ai", "ai research", "ai deals", "ai partnerships", "ai partnership",
                                  "ai collaborations", "ai collaboration", "ai drug discovery")},
}

STAGES = ("discovery", "platform", "preclinical", "phase 1", "phase 2", "phase 3", "filed", "approved")
STAGE_PHRASES: dict[str, str] = {
    "discovery stage": "discovery", "preclinical": "preclinical",
    "pre clinical": "preclinical", "phase 1": "phase 1", "phase i": "phase 1", "phase 2": "phase 2",
    "phase ii": "phase 2", "phase 3": "phase 3", "phase iii": "phase 3", "approved": "approved",
    "marketed": "approved", "commercial stage": "approved",
}

# targets and mechanisms: matched in the asset and notes text
TARGETS = ("GLP-1", "GIP", "amylin", "PD-1", "PD-L1", "VEGF", "TROP2", "HER2", "HER3", "B7-H3", "B7-H4", "DLL3",
           "CDH17", "Claudin 18.2", "CLDN18.2", "KRAS", "TSLP", "TL1A", "BCMA", "CD3", "CD19", "CD20", "CD47",
           "GPRC5D", "EGFR", "c-Met", "Nectin-4", "Lp(a)", "TYK2", "BTK", "PARP1", "TIGIT", "IL-2", "HBV",
           "NLRP3", "CTLA-4", "FRalpha", "SHP2", "menin")

# a class of mechanism a question names instead of its targets: each target is matched in the asset and notes
TARGET_CLASSES: dict[str, tuple[str, ...]] = {
    **{w: ("GLP-1", "GIP") for w in ("incretin", "incretins", "incretin based", "incretin-based")},
}
