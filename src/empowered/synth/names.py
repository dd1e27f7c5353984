"""Name pools for fictional pupils, schools and the trust.

Forenames and surnames are common ones drawn independently, so a full name is a random
pairing, not a person. Famous surnames are left out on purpose. Some names carry accents:
several are representable in Windows-1252 (Zoë, Chloé, José) and a few are not (Łukasz,
Wiśniewska), because MIS exports in either encoding must survive the import later.
"""

from __future__ import annotations

# Pool -> (girls' forenames, boys' forenames, surnames).
NAME_POOLS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "english",
        (
            "Olivia", "Amelia", "Isla", "Ava", "Ivy", "Freya", "Lily", "Florence", "Mia",
            "Willow", "Rosie", "Sophia", "Isabella", "Grace", "Daisy", "Sienna", "Poppy",
            "Elsie", "Emily", "Ella", "Evie", "Ruby", "Harper", "Matilda", "Phoebe",
            "Zoë", "Chloé", "Renée", "Niamh", "Erin", "Maisie", "Esme", "Imogen", "Hannah",
            "Molly", "Lucy", "Jessica", "Megan", "Bethany", "Holly",
        ),
        (
            "Noah", "Oliver", "George", "Arthur", "Leo", "Muhammad", "Harry", "Oscar",
            "Archie", "Henry", "Theodore", "Freddie", "Jack", "Charlie", "Finley", "Alfie",
            "Thomas", "Jacob", "Isaac", "Reuben", "Joshua", "Samuel", "Edward", "Max",
            "Toby", "Lewis", "Ethan", "Dylan", "Callum", "Riley", "Jake", "Owen", "Kai",
            "Noël", "Rory", "Ben", "Luca", "Jamie", "Connor", "Tyler",
        ),
        (
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
            "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green",
            "Hall", "Wood", "Jackson", "Clarke", "Harris", "Lewis", "Turner", "Hill",
            "Cooper", "Ward", "Morris", "Moore", "Clark", "Baker", "Harrison", "Morgan",
            "Allen", "James", "Scott", "Phillips", "Watson", "Edwards", "Parker", "Bennett",
            "Griffiths", "Marshall", "Holmes", "Shaw", "Lloyd", "Ellis", "Richardson",
            "O'Connor", "O'Neill", "McDonald", "Fletcher", "Atkinson", "Pearson", "Barker",
            "Hughes", "Knight", "Simpson", "Dawson", "Fox-Russell", "Hayes-Whitfield",
        ),
    ),
    (
        "central_european",
        (
            "Zuzanna", "Oliwia", "Maja", "Julia", "Amelia", "Hanna", "Lena", "Natalia",
            "Alicja", "Wiktoria", "Ioana", "Elena", "Andreea", "Gabija", "Emilija", "Anna",
            "Tereza", "Klára", "Réka", "Mária",
        ),
        (
            "Łukasz", "Jakub", "Mateusz", "Szymon", "Filip", "Kacper", "Wojciech", "Antoni",
            "Stefan", "Andrei", "Matei", "Luka", "Tomáš", "Dominik", "Bence", "Márk",
            "Jonas", "Lukas", "Adam", "Daniel",
        ),
        (
            "Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Lewandowski", "Zielińska",
            "Szymański", "Woźniak", "Dąbrowski", "Kozłowska", "Popescu", "Ionescu", "Popa",
            "Radu", "Kazlauskas", "Petrauskienė", "Jankauskas", "Novák", "Horváth",
            "Nagy", "Kovács", "Šimkus", "Müller", "Ferreira", "Santos", "Conceição",
            "Rossi", "Ruiz", "García", "Dimitrov",
        ),
    ),
    (
        "south_asian",
        (
            "Aisha", "Fatima", "Maryam", "Zara", "Inaaya", "Ayesha", "Hafsa", "Sana",
            "Priya", "Anika", "Diya", "Kiran", "Simran", "Harleen", "Nusrat", "Tasnim",
            "Safa", "Amira", "Eshal", "Laiba",
        ),
        (
            "Muhammad", "Ibrahim", "Yusuf", "Ayaan", "Zayn", "Hamza", "Ali", "Rayan",
            "Arjun", "Rohan", "Aarav", "Dev", "Harjit", "Gurveer", "Rafi", "Tanvir",
            "Imran", "Zakariya", "Musa", "Idris",
        ),
        (
            "Khan", "Hussain", "Ahmed", "Begum", "Ali", "Rahman", "Iqbal", "Akhtar",
            "Mahmood", "Shah", "Patel", "Sharma", "Singh", "Kaur", "Gill", "Sandhu",
            "Chowdhury", "Miah", "Uddin", "Islam", "Mistry", "Desai", "Joshi", "Nair",
        ),
    ),
    (
        "african",
        (
            "Amara", "Chiamaka", "Adaeze", "Zainab", "Ifeoma", "Abena", "Ama", "Nia",
            "Hodan", "Sagal", "Ayan", "Deka", "Temitope", "Folake", "Esi", "Halima",
        ),
        (
            "Tobi", "Chidi", "Kwame", "Kofi", "Emeka", "Tunde", "Ayo", "David", "Samuel",
            "Abdi", "Mohamed", "Hassan", "Yaw", "Femi", "Obinna", "Jayden",
        ),
        (
            "Okafor", "Mensah", "Adeyemi", "Okoro", "Asante", "Boateng", "Owusu", "Adebayo",
            "Eze", "Nwosu", "Abdi", "Ali", "Warsame", "Osei", "Ogunleye", "Bello",
            "Adeleke", "Nkemelu",
        ),
    ),
    (
        "caribbean",
        (
            "Shanice", "Tiana", "Kayla", "Aaliyah", "Nia", "Jada", "Imani", "Destiny",
            "Leah", "Keisha",
        ),
        (
            "Tyrese", "Jayden", "Malachi", "Isaiah", "Jermaine", "Kai", "Marcus", "Elijah",
            "Andre", "Reggie",
        ),
        (
            "Campbell", "Francis", "Grant", "Reid", "Stewart", "Henry", "Clarke", "Thomas",
            "Samuels", "Gordon", "Bailey", "Powell",
        ),
    ),
    (
        "chinese",
        ("Mei", "Xinyi", "Yuxuan", "Ling", "Hui", "Jia", "Wen", "Ying"),
        ("Hao", "Jun", "Wei", "Yichen", "Zihan", "Ming", "Kai", "Bo"),
        ("Chen", "Wang", "Li", "Zhang", "Liu", "Huang", "Zhao", "Wu", "Lin", "Yang"),
    ),
    (
        "other",
        (
            "Layla", "Noor", "Yasmin", "Leila", "Mariam", "Inés", "Sofía", "Anaïs", "Hélène",
            "Léa", "Elif", "Zeynep", "Linh", "Mai", "Isabel", "Camila",
        ),
        (
            "Omar", "Karim", "Ahmad", "Yousef", "José", "Mateo", "Théo", "François", "Emre",
            "Mehmet", "Minh", "Bao", "Diego", "João", "Amir", "Darius",
        ),
        (
            "Haddad", "Mansour", "Karimi", "Rahimi", "Hosseini", "Yilmaz", "Demir",
            "Kaya", "Nguyen", "Tran", "Pham", "Fernández", "López", "Silva", "Dubois",
            "Lefèvre", "Aziz", "Saleh",
        ),
    ),
)

# Fictional place-name parts for schools: compounds like "Kestrelmere" are made up.
PLACE_HEADS: tuple[str, ...] = (
    "Ash", "Bramble", "Kestrel", "Wren", "Hollin", "Marl", "Fern", "Thistle", "Linnet",
    "Alder", "Heron", "Sorrel", "Bracken", "Rowan", "Plover", "Tansy", "Quarry", "Sedge",
    "Otter", "Larch", "Mallow", "Yarrow", "Copper", "Flint",
)
PLACE_TAILS: tuple[str, ...] = (
    "brook", "combe", "field", "ford", "gate", "holme", "mere", "ridge", "stead", "wick",
    "dale", "hurst", "leigh", "thorpe", "worth",
)
TRUST_WORDS: tuple[str, ...] = (
    "Horizon", "Beacon", "Confluence", "Meadowlark", "Riverstone", "Lanternfield",
    "Evergreen", "Skylark",
)
TRUST_KINDS: tuple[str, ...] = (
    "Learning Trust", "Education Partnership", "Schools Trust", "Multi-Academy Trust",
)
