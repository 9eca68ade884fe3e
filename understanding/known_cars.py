"""Makes and models a customer may name whether or not the catalog has them.

The catalog's own makes and models are read live (`names.Vocabulary`); these lists
only add the names people use ("vocho", "chevy") and well-known cars the catalog
may lack, so "busco un Lamborghini" or "y el Mustang?" is understood as a car and
answered honestly ("no tenemos ... por ahora") with the closest alternatives.
Body types use the catalog's codes (`actions.catalog_index.BODY_LABELS`).
"""

from __future__ import annotations

# Names a customer uses that are not the catalog's own spelling.
MAKE_ALIASES = {
    "vw": "Volkswagen", "volks": "Volkswagen", "wolkswagen": "Volkswagen", "chevy": "Chevrolet",
    "chevi": "Chevrolet", "chebrolet": "Chevrolet", "mercedes": "Mercedes Benz", "benz": "Mercedes Benz",
    "mercedesbenz": "Mercedes Benz", "bmw": "BMW", "kia": "KIA", "ram": "RAM", "mg": "MG",
    "landrover": "Land Rover", "alfa": "Alfa Romeo", "merce": "Mercedes Benz",
    "lambo": "Lamborghini", "rolls": "Rolls Royce",
}

# Well-known makes: (make, segment) where the segment says what to offer instead
# when the catalog has none ("premium", "sport" or "" for an everyday make).
KNOWN_MAKES = {
    "Acura": "premium", "Alfa Romeo": "premium", "Aston Martin": "sport", "Audi": "premium",
    "BAIC": "", "Bentley": "sport", "BMW": "premium", "BYD": "", "Buick": "", "Bugatti": "sport",
    "Cadillac": "premium", "Changan": "", "Chevrolet": "", "Chirey": "", "Chrysler": "", "Citroen": "",
    "Cupra": "premium", "Dodge": "", "Ferrari": "sport", "Fiat": "", "Ford": "", "Foton": "",
    "GAC": "", "Geely": "", "Genesis": "premium", "GMC": "", "Great Wall": "", "Haval": "",
    "Honda": "", "Hummer": "premium", "Hyundai": "", "Infiniti": "premium", "Isuzu": "", "JAC": "",
    "Jaguar": "premium", "Jeep": "", "Jetour": "", "KIA": "", "Lamborghini": "sport",
    "Land Rover": "premium", "Lexus": "premium", "Lincoln": "premium", "Lotus": "sport",
    "Maserati": "sport", "Mazda": "", "McLaren": "sport", "Mercedes Benz": "premium", "MG": "",
    "Mini": "premium", "Mitsubishi": "", "Nissan": "", "Omoda": "", "Opel": "", "Peugeot": "",
    "Polestar": "premium", "Pontiac": "", "Porsche": "sport", "RAM": "", "Renault": "",
    "Rolls Royce": "sport", "Seat": "", "Skoda": "", "Smart": "", "Subaru": "", "Suzuki": "",
    "Tesla": "premium", "Toyota": "", "Volkswagen": "", "Volvo": "premium",
}

# (make, model) the customer may call by another name.
MODEL_ALIASES = {
    "vocho": ("Volkswagen", "Sedan"), "bocho": ("Volkswagen", "Sedan"), "escarabajo": ("Volkswagen", "Beetle"),
    "crv": ("Honda", "CR-V"), "hrv": ("Honda", "HR-V"), "brv": ("Honda", "BR-V"), "xtrail": ("Nissan", "X-Trail"),
    "tcross": ("Volkswagen", "T-Cross"), "rav": ("Toyota", "RAV4"), "np300": ("Nissan", "NP300 Frontier"),
    "i10": ("Hyundai", "Grand i10"), "mazda3": ("Mazda", "Mazda 3"), "mazda2": ("Mazda", "Mazda 2"),
    "cx5": ("Mazda", "CX-5"), "cx3": ("Mazda", "CX-3"), "cx9": ("Mazda", "CX-9"), "cx30": ("Mazda", "CX-30"),
}

# Well-known models, in stock or not, with their body type: what "the closest cars"
# means when the catalog has none of them.
KNOWN_MODELS = {
    ("Ford", "Mustang"): "coupe", ("Ford", "F-150"): "pickup", ("Ford", "Lobo"): "pickup",
    ("Ford", "Ranger"): "pickup", ("Ford", "Bronco"): "suv", ("Ford", "Explorer"): "suv",
    ("Ford", "Maverick"): "pickup", ("Ford", "Fiesta"): "hatchback", ("Ford", "Focus"): "hatchback",
    ("Ford", "Fusion"): "sedan", ("Ford", "Territory"): "suv", ("Ford", "Edge"): "suv",
    ("Chevrolet", "Camaro"): "coupe", ("Chevrolet", "Corvette"): "coupe", ("Chevrolet", "Silverado"): "pickup",
    ("Chevrolet", "Cheyenne"): "pickup", ("Chevrolet", "Tahoe"): "suv", ("Chevrolet", "Suburban"): "suv",
    ("Chevrolet", "Tornado"): "pickup", ("Chevrolet", "S10"): "pickup", ("Chevrolet", "Groove"): "suv",
    ("Chevrolet", "Blazer"): "suv", ("Chevrolet", "Malibu"): "sedan",
    ("Toyota", "Tacoma"): "pickup", ("Toyota", "Tundra"): "pickup", ("Toyota", "Camry"): "sedan",
    ("Toyota", "Prius"): "hatchback", ("Toyota", "Highlander"): "suv", ("Toyota", "Supra"): "coupe",
    ("Toyota", "Raize"): "suv", ("Toyota", "Corolla Cross"): "suv",
    ("Nissan", "Tsuru"): "sedan", ("Nissan", "Tiida"): "sedan", ("Nissan", "Qashqai"): "suv",
    ("Nissan", "Titan"): "pickup", ("Nissan", "Juke"): "suv",
    ("Volkswagen", "Beetle"): "hatchback", ("Volkswagen", "Amarok"): "pickup",
    ("Volkswagen", "Teramont"): "suv", ("Volkswagen", "Nivus"): "suv", ("Volkswagen", "Up"): "hatchback",
    ("Honda", "Accord"): "sedan", ("Honda", "Pilot"): "suv", ("Honda", "Fit"): "hatchback",
    ("Honda", "WR-V"): "suv",
    ("Mazda", "CX-30"): "suv", ("Mazda", "CX-50"): "suv", ("Mazda", "CX-90"): "suv",
    ("Hyundai", "Santa Fe"): "suv", ("Hyundai", "Ioniq"): "hatchback", ("Hyundai", "Palisade"): "suv",
    ("KIA", "K3"): "sedan", ("KIA", "Niro"): "suv", ("KIA", "Stinger"): "sedan",
    ("Jeep", "Wrangler"): "suv", ("Jeep", "Cherokee"): "suv", ("Jeep", "Gladiator"): "pickup",
    ("Dodge", "Charger"): "sedan", ("Dodge", "Challenger"): "coupe", ("Dodge", "Neon"): "sedan",
    ("RAM", "1500"): "pickup", ("RAM", "2500"): "pickup",
    ("Tesla", "Model 3"): "sedan", ("Tesla", "Model Y"): "suv", ("Tesla", "Model S"): "sedan",
    ("BMW", "Serie 5"): "sedan", ("BMW", "X6"): "suv", ("BMW", "M3"): "sedan",
    ("Audi", "A4"): "sedan", ("Audi", "Q5"): "suv", ("Audi", "Q7"): "suv",
    ("Mercedes Benz", "Clase E"): "sedan", ("Mercedes Benz", "GLC"): "suv",
    ("Porsche", "911"): "coupe", ("Porsche", "Cayenne"): "suv", ("Porsche", "Macan"): "suv",
    ("Mitsubishi", "L200"): "pickup", ("Mitsubishi", "Outlander"): "suv", ("Mitsubishi", "Mirage"): "hatchback",
    ("Subaru", "Forester"): "suv", ("Subaru", "Impreza"): "sedan", ("Subaru", "WRX"): "sedan",
    ("BYD", "Dolphin"): "hatchback", ("BYD", "Seal"): "sedan", ("BYD", "Song"): "suv",
    ("Renault", "Stepway"): "hatchback", ("Renault", "Sandero"): "hatchback",
}
