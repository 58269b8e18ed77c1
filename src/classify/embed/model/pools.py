"""Vocabulary seeds for the synthetic corpus: entity names and slot fillers.

Every pool is split in two disjoint halves: the training split only ever sees the
first, the held-out split only the second, so held-out accuracy is measured on
companies, products, people and places the model has never seen.
"""

COMPANIES = [
    "Northwind Analytics", "Bluefin Logistics", "Quarry Health", "Helix Robotics", "Oakridge Mutual",
    "Tidewater Energy", "Parcel & Pine", "Lumen Biosciences", "Greyhawk Security", "Solstice Retail",
    "Corvid Labs", "Meridian Freight", "Halcyon Insurance", "Brightwater Foods", "Kestrel Aerospace",
    "Arbor Dental Group", "Nimbus Payments", "Copperleaf Media", "Vantage Pharmacy", "Redwood Telecom",
    # held-out half
    "Saltmarsh Capital", "Juniper Clinics", "Ironbark Mining", "Pelican Travel", "Driftwood Software",
    "Cobalt Ridge Bank", "Sable Mobility", "Marigold Education", "Fjord Networks", "Ember Utilities",
    "Willowbrook Care", "Granite Peak Realty", "Orchid Cosmetics", "Starling Freightways", "Basalt Semiconductors",
    "Linden Legal Services", "Aurora Grid", "Thistle Brewing", "Harbor Light Credit Union", "Vesper Games",
]
PRODUCTS = [
    "Atlas", "Beacon", "Cinder", "Dynamo", "Echo", "Falcon", "Gantry", "Harbor", "Iris", "Jetstream",
    "Keystone", "Lattice", "Mosaic", "Nova", "Orbit", "Pylon", "Quill", "Relay",
    # held-out half
    "Sparrow", "Trellis", "Umbra", "Vertex", "Wayfinder", "Xenon", "Yarrow", "Zephyr", "Aspen", "Bramble",
    "Caldera", "Dovetail", "Estuary", "Fathom", "Glacier", "Hollow", "Inlet", "Jasper",
]
FIRST = [
    "Maria", "James", "Aiko", "Daniel", "Priya", "Lukas", "Fatima", "Oliver", "Chen", "Sofia", "Mateo", "Grace",
    "Ibrahim", "Hannah", "Ravi", "Elena", "Tomasz", "Amara", "Noah", "Yuki",
    # held-out half
    "Ingrid", "Kwame", "Lucia", "Dmitri", "Nadia", "Samuel", "Leila", "Henrik", "Mei", "Rafael", "Zoe", "Arjun",
    "Beatriz", "Olusegun", "Clara", "Tariq", "Freya", "Jonas", "Ananya", "Marco",
]
LAST = [
    "Garcia", "Okafor", "Tanaka", "Schmidt", "Patel", "Novak", "Haddad", "Brennan", "Wu", "Rossi", "Silva",
    "Kowalski", "Mensah", "Larsen", "Iyer", "Dubois", "Fischer", "Nakamura", "Reyes", "Osei",
    # held-out half
    "Lindqvist", "Adeyemi", "Moreau", "Petrov", "Chaudhry", "Keller", "Yamamoto", "Bianchi", "Oyelaran", "Santos",
    "Nowak", "Kaur", "Eriksen", "Delgado", "Abara", "Horvath", "Quinn", "Takahashi", "Varga", "Morales",
]
CITIES = [
    "Lisbon", "Denver", "Osaka", "Leeds", "Austin", "Lyon", "Pune", "Gdansk", "Toronto", "Perth",
    # held-out half
    "Porto", "Tucson", "Sapporo", "Bristol", "Raleigh", "Nantes", "Chennai", "Krakow", "Calgary", "Adelaide",
]
TEAMS = [
    "platform", "payments", "data engineering", "growth", "billing", "search", "identity", "mobile",
    # held-out half
    "storage", "checkout", "analytics", "ledger", "notifications", "risk", "fulfilment", "messaging",
]
SERVICES = [
    "orders-api", "auth-gateway", "ledger-writer", "search-indexer", "invoice-render", "event-bus", "user-profile",
    "cart-service",
    # held-out half
    "payout-worker", "session-store", "catalog-sync", "fraud-scorer", "email-dispatch", "quote-engine",
    "inventory-api", "metrics-relay",
]
TECH = [
    "PostgreSQL", "Kafka", "Redis", "Kubernetes", "Terraform", "Elasticsearch", "nginx", "RabbitMQ",
    # held-out half
    "MySQL", "Pulsar", "Memcached", "Nomad", "Ansible", "OpenSearch", "HAProxy", "NATS",
]
DOMAINS = [
    "northwind.example", "bluefin.example", "quarryhealth.example", "helix.example", "oakridge.example",
    # held-out half
    "saltmarsh.example", "juniper.example", "ironbark.example", "pelican.example", "driftwood.example",
]
INDUSTRY_WORDS = [
    "logistics", "retail", "healthcare", "insurance", "energy", "manufacturing", "media", "telecom",
    # held-out half
    "banking", "education", "mining", "travel", "utilities", "real estate", "gaming", "hospitality",
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def half(pool, split):
    """The split's half of a pool: held-out names are never seen in training."""
    mid = len(pool) // 2
    return pool[mid:] if split == "heldout" else pool[:mid]

# Syllables for invented names (people, companies); the halves differ so held-out names are new.
SYLLABLES = [
    "ka", "lo", "mi", "ren", "tas", "vo", "bel", "dri", "fen", "gor", "hul", "jin", "kor", "lun", "mar",
    "nek", "pri", "qua", "ros", "sul", "tev", "ul", "vin", "wes", "yor", "zan",
    # held-out half
    "ab", "cie", "dov", "eth", "fay", "gil", "hox", "ira", "jup", "kel", "lys", "mov", "nar", "oph", "pex",
    "quil", "rav", "sen", "tor", "ubi", "vex", "wil", "xan", "yel", "zor", "ost",
]
COMPANY_SUFFIXES = ["Labs", "Group", "Holdings", "Systems", "Partners", "Industries",
                    # held-out half
                    "Inc.", "GmbH", "Ltd", "Co.", "Ventures", "Collective"]
