"""True people and the noisy ways source systems write down who they are."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
    "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Christopher", "Nancy", "Daniel", "Margaret", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Dorothy",
    "Steven", "Sandra", "Andrew", "Ashley", "Joshua", "Kimberly", "Kenneth", "Emily", "Kevin", "Donna",
    "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Jacob", "Ivy", "Noah", "Lily",
    "Charlie", "Isabella", "Muhammad", "Rosie", "Leo", "Sophia", "Arthur", "Grace", "Oscar", "Freya",
    "Alfie", "Poppy", "Henry", "Florence", "Archie", "Evie", "Theo", "Ella", "Freddie", "Alice", "Samuel",
    "Katherine", "Benjamin", "Victoria", "Alexander", "Rebecca", "Nicholas", "Catherine", "Edward", "Eleanor",
    "Priya", "Aisha", "Ravi", "Fatima", "Wei", "Mei", "Luca", "Sofia", "Mateo", "Chloe", "Ethan", "Hannah",
    "Lucas", "Zoe", "Liam", "Ruby", "Aaron", "Megan", "Adam", "Holly", "Callum", "Erin", "Connor", "Niamh",
]
NICKNAMES = {
    "William": "Bill", "Robert": "Bob", "Elizabeth": "Liz", "Katherine": "Kate", "Michael": "Mike",
    "Richard": "Rick", "Joseph": "Joe", "Thomas": "Tom", "Charles": "Charlie", "Christopher": "Chris",
    "Daniel": "Dan", "Margaret": "Maggie", "Matthew": "Matt", "Anthony": "Tony", "Steven": "Steve",
    "Andrew": "Andy", "Joshua": "Josh", "Kenneth": "Ken", "Jennifer": "Jenny", "Patricia": "Pat",
    "Samuel": "Sam", "Benjamin": "Ben", "Alexander": "Alex", "Nicholas": "Nick", "Edward": "Ed",
    "Victoria": "Vicky", "Rebecca": "Becky", "Catherine": "Cathy", "Eleanor": "Ellie", "Susan": "Sue",
    "Frederick": "Fred", "Jessica": "Jess", "Kimberly": "Kim", "Dorothy": "Dot", "Isabella": "Bella",
}
LAST_NAMES = [
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
    "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
    "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward",
    "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen", "James", "Scott",
    "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly",
    "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox",
    "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh", "Begum", "Wilkinson",
    "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali", "Hunt", "Hussain", "Campbell",
    "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight", "Lloyd", "Butler", "Russell",
    "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey", "Graham", "Pearson", "Ahmed",
    "Fletcher", "Walsh", "Kaur", "Gibson", "Howard", "Andrews", "Stewart", "Elliott", "Reynolds", "Saunders",
    "Payne", "Fox", "Ford", "Pearce", "Day", "Brooks", "West", "Lawrence", "Cole", "Atkinson", "Bradley",
    "Spencer", "Gill", "Dawson", "Ball", "Burton", "O'Brien", "Watts", "Rose", "Booth", "Perry", "Ryan",
    "Grant", "Wells", "Armstrong", "Francis", "Rees", "Hayes", "Hart", "Hudson", "Newman", "Barrett",
    "Webster", "Hunter", "Gregory", "Carr", "Lowe", "Page", "Marsh", "Riley", "Dunn", "Woods", "Parsons",
    "Berry", "Stone", "Reid", "Holland", "Hawkins", "Harding", "Porter", "Robertson", "Newton", "Oliver",
    "Reed", "Kennedy", "Williamson", "Bird", "Gardner", "Shah", "Dean", "Lane", "Cooke", "Bates", "Henderson",
]
CITIES = [
    ("London", "SW"), ("London", "N"), ("London", "E"), ("Manchester", "M"), ("Birmingham", "B"),
    ("Leeds", "LS"), ("Glasgow", "G"), ("Liverpool", "L"), ("Bristol", "BS"), ("Sheffield", "S"),
    ("Edinburgh", "EH"), ("Cardiff", "CF"), ("Leicester", "LE"), ("Nottingham", "NG"), ("Newcastle", "NE"),
    ("Brighton", "BN"), ("Oxford", "OX"), ("Cambridge", "CB"), ("York", "YO"), ("Bath", "BA"),
]
STREETS = [
    "High Street", "Station Road", "Main Street", "Park Road", "Church Road", "Church Street", "London Road",
    "Victoria Road", "Green Lane", "Manor Road", "Church Lane", "Park Avenue", "The Avenue", "The Crescent",
    "Queens Road", "New Road", "Grange Road", "Kings Road", "Kingsway", "Windsor Road", "Highfield Road",
    "Mill Lane", "Alexander Road", "York Road", "St. John's Road", "Main Road", "Broadway", "King Street",
    "The Green", "Springfield Road", "George Street", "Park Lane", "Victoria Street", "Albert Road",
    "Queensway", "New Street", "Queen Street", "West Street", "North Street", "Manchester Road",
]
EMAIL_DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "hotmail.co.uk", "icloud.com", "btinternet.com"]
JUNK_EMAILS = ["test@test.com", "noemail@noemail.com", "none@none.com"]
JUNK_PHONE = "00000000000"
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass
class Household:
    street: str
    city: str
    postcode: str
    landline: str | None
    surname: str


@dataclass
class Person:
    person_id: str
    first_name: str
    last_name: str
    birth_date: date | None
    emails: list[str]
    mobile: str | None
    household: Household
    loyalty_id: str | None
    account_id: str | None
    cookies: list[str]
    email_opt_in: bool
    sms_opt_in: bool
    registered_day: int  # day index the CRM first knows them; < 0 = before the window
    tier: str
    purchase_rate: float  # purchases per day while active
    dropout: float  # probability of becoming inactive after each purchase
    mean_spend: float

    @property
    def phone(self) -> str | None:
        return self.mobile or self.household.landline


def new_household(rng: random.Random) -> Household:
    city, area = rng.choice(CITIES)
    postcode = f"{area}{rng.randint(1, 28)} {rng.randint(1, 9)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}"
    street = f"{rng.randint(1, 240)} {rng.choice(STREETS)}"
    landline = f"+44{rng.choice(['20', '161', '121', '113', '141'])}{rng.randint(1000000, 9999999)}"
    return Household(street, city, postcode, landline if rng.random() < 0.35 else None, rng.choice(LAST_NAMES))


def new_person(index: int, rng: random.Random, households: list[Household], day_count: int) -> Person:
    # A quarter of people share a household (address, often surname and landline) with someone already drawn.
    shared = households and rng.random() < 0.25
    household = rng.choice(households) if shared else new_household(rng)
    if not shared:
        households.append(household)
    first = rng.choice(FIRST_NAMES)
    last = household.surname if (not shared or rng.random() < 0.7) else rng.choice(LAST_NAMES)
    birth = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 55)) if rng.random() < 0.92 else None
    handle = f"{first}.{last}".lower().replace("'", "")
    # A mailbox belongs to one person: namesakes never share an address, so each carries the person's number.
    emails = [f"{handle}{index}@{rng.choice(EMAIL_DOMAINS)}"]
    if rng.random() < 0.2:  # a second address, e.g. work or an old account
        emails.append(f"{first[0].lower()}{last.lower().replace(chr(39), '')}.{index}@{rng.choice(EMAIL_DOMAINS)}")
    mobile = f"+447{rng.randint(100000000, 999999999)}" if rng.random() < 0.88 else None
    pid = f"P{index:08d}"
    has_card = rng.random() < 0.6
    has_account = rng.random() < 0.55
    registered = -rng.randint(1, 1000) if rng.random() < 0.45 else rng.randint(0, max(day_count - 1, 0))
    return Person(
        person_id=pid,
        first_name=first,
        last_name=last,
        birth_date=birth,
        emails=emails,
        mobile=mobile,
        household=household,
        loyalty_id=f"L{index:09d}" if has_card else None,
        account_id=f"A{index:08d}" if has_account else None,
        cookies=[f"ck-{index:08d}-{k}" for k in range(1 + (rng.random() < 0.3))],
        email_opt_in=rng.random() < 0.7,
        sms_opt_in=rng.random() < 0.4,
        registered_day=registered,
        tier=rng.choices(["bronze", "silver", "gold"], weights=[70, 22, 8])[0],
        purchase_rate=rng.gammavariate(0.8, 0.02),
        dropout=rng.betavariate(0.8, 3.0),
        mean_spend=rng.gammavariate(3.0, 16.0) + 5,
    )


class Noise:
    """How carelessly systems record identity; `level` 1.0 is the default demo noise."""

    def __init__(self, rng: random.Random, level: float):
        self.rng = rng
        self.level = level

    def chance(self, p: float) -> bool:
        return self.rng.random() < p * self.level

    def typo(self, text: str) -> str:
        if len(text) < 3:
            return text
        i = self.rng.randrange(1, len(text) - 1)
        kind = self.rng.random()
        if kind < 0.35:
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        if kind < 0.7:
            return text[:i] + text[i + 1 :]
        return text[:i] + self.rng.choice("aeiourstnl") + text[i + 1 :]

    def first_name(self, name: str) -> str:
        if name in NICKNAMES and self.chance(0.12):
            name = NICKNAMES[name]
        elif self.chance(0.04):
            name = self.typo(name)
        return self.case(name)

    def last_name(self, name: str) -> str:
        if self.chance(0.04):
            name = self.typo(name)
        return self.case(name)

    def case(self, text: str) -> str:
        if self.chance(0.05):
            return text.upper()
        if self.chance(0.05):
            return text.lower()
        return text

    def email(self, email: str) -> str:
        if self.chance(0.08):
            email = email.upper() if self.rng.random() < 0.5 else email.capitalize()
        if self.chance(0.05):
            email = f" {email} "
        return email

    def phone(self, e164: str | None) -> str | None:
        if e164 is None:
            return None
        national = "0" + e164[3:]
        styles = [
            e164,
            f"+44 {e164[3:7]} {e164[7:]}",
            national,
            f"{national[:5]} {national[5:]}",
            f"0044 {e164[3:]}",
            f"({national[:5]}) {national[5:]}",
            f"{national[:5]}-{national[5:8]}-{national[8:]}",
        ]
        return self.rng.choice(styles)

    def postcode(self, postcode: str) -> str:
        if self.chance(0.1):
            return postcode.replace(" ", "")
        if self.chance(0.1):
            return postcode.lower()
        return postcode

    def street(self, street: str) -> str:
        if self.chance(0.1):
            return street.replace("Road", "Rd").replace("Street", "St").replace("Avenue", "Ave")
        if self.chance(0.03):
            return self.typo(street)
        return street
