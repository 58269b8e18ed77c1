"""Prose shared by every tier (so no tier is recognisable by generic business wording) and
banner lines per tier. Like all template lists, every third entry is held-out only.
"""

FILLER = [
    "As always, thanks to everyone who contributed.",
    "Please reach out if anything here is unclear.",
    "We will revisit this once we have more data.",
    "The numbers below are rounded to the nearest whole unit.",
    "This follows up on the discussion from last week.",
    "Several teams were involved in getting this done.",
    "Let us know what you think.",
    "More details will follow in the coming weeks.",
    "The timeline may shift depending on dependencies.",
    "See the appendix for definitions of the terms used.",
    "This is a living document and will be updated.",
    "Questions and comments are welcome.",
    "The work is tracked in the usual place.",
    "Thank you for your patience while we sorted this out.",
    "We appreciate the feedback we received.",
    "Refer to the previous version for background.",
    "Our goal is to keep this short and practical.",
    "Everything described here applies from {month} onwards.",
    "Tracking reference: {ticket}.",
    "Source revision {sha}.",
    "Link: https://{dom}/{slug}",
    "Related: {ticket} and {ticket}.",
    "Built from commit {sha}.",
    "More at https://www.{dom}/{slug}",
]

BANNERS = {
    "PUBLIC": [
        "© {year} {co}. All rights reserved.",
        "Published {date}",
        "FOR IMMEDIATE RELEASE",
        "Last updated {date}",
        "Press contact: media relations",
        "{co} Newsroom",
    ],
    "INTERNAL": [
        "Internal use only",
        "For {co} employees and contractors",
        "DRAFT — please do not forward outside the company",
        "Internal — not for distribution",
        "{co} intranet",
        "Working draft v{ver}",
    ],
    "PROPRIETARY": [
        "CONFIDENTIAL",
        "Restricted: need-to-know basis only",
        "Strictly confidential — {co}",
        "Privileged & confidential",
        "Restricted distribution list",
        "Confidential: contains personal data",
    ],
}
