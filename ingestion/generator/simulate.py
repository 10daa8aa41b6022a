"""What each touchpoint system records about one person over the window."""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from ingestion.generator.baskets import Baskets
from ingestion.generator.people import JUNK_EMAILS, JUNK_PHONE, Noise, Person

STORES = [f"S{n:03d}" for n in range(1, 13)]
AGENTS = [f"AG{n:02d}" for n in range(1, 13)]
SALES_REPS = [f"REP{n:02d}" for n in range(1, 9)]
# Every other newsletter goes to an audience (subscribers with a web account) and holds out a share of it: the
# held out get a `held_out` event and nothing else; the treated buy once more (on the web, in the campaign's
# week) with extra_purchase, on top of what clicks bring. Written to truth/campaign_lift.json.
AUDIENCE_TEST = {"audience": "web_account_subscribers", "holdout_share": 0.1, "extra_purchase": 0.08}
# web orders that complete (the rest are cancelled or returned, and are no purchase)
WEB_ORDER_STATUSES = {"completed": 88, "cancelled": 6, "returned": 6}
# what the treated gain besides the extra purchase: delivered x opened x clicked x bought after the click
CLICK_PURCHASE = 0.97 * 0.3 * 0.25 * 0.2
# A closed lead is won with probability sigmoid(logit), the logit summing these over what is known at its
# creation; written to truth/lead_conversion.json for the lead score to be measured against.
LEAD_CONVERSION = {
    "intercept": -3.0,
    "per_sales_call": 0.35,
    "source": {"referral": 0.9, "campaign": 0.4, "event": 0.0, "web_form": -0.2},
    "opened_email_before": 1.1,
    "logged_in_visit_before": 0.8,
    "existing_customer": 1.0,
}
ATTRIBUTION_DAYS = 7


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    channel: str
    code: str | None
    start_day: int
    end_day: int
    cost: float
    target_segment: str
    audience: str | None = None  # a campaign sent to an audience holds out a control group of it


class Sink(Protocol):
    def add(self, feed: str, day: int, row: dict, person_id: str | None, record_id: str) -> None: ...


def plan_campaigns(day_count: int, rng: random.Random) -> list[Campaign]:
    """Fortnightly email campaigns plus a monthly paid social or search campaign with a promo code."""
    campaigns = []
    for n, start in enumerate(range(3, day_count, 14), start=1):
        campaigns.append(Campaign(f"CMP-E{n:03d}", f"Newsletter {n}", "email", f"EM{n:03d}", start,
                                  min(start + 6, day_count - 1), round(rng.uniform(300, 900), 2),
                                  rng.choice(["all", "Champions", "At Risk", "New"]),
                                  AUDIENCE_TEST["audience"] if n % 2 else None))
    for n, start in enumerate(range(10, day_count, 30), start=1):
        channel = rng.choice(["social", "search", "display"])
        campaigns.append(Campaign(f"CMP-P{n:03d}", f"{channel.title()} push {n}", channel, f"PROMO{n:02d}", start,
                                  min(start + 13, day_count - 1), round(rng.uniform(1500, 6000), 2), "all"))
    return campaigns


class PersonSimulator:
    """Turns one true person into the rows each source system would deliver."""

    def __init__(self, start: date, day_count: int, campaigns: list[Campaign], rng: random.Random,
                 noise: Noise, sink: Sink, baskets: Baskets):
        self.baskets = baskets  # with a random stream of its own: the other feeds stay as they were
        self.start = start
        self.day_count = day_count
        self.campaigns = campaigns
        self.rng = rng
        self.noise = noise
        self.sink = sink

    def ts(self, day: float) -> datetime:
        # Shops are open 08:00-21:00; `day` carries the fraction of the day.
        whole = math.floor(day)
        seconds = int(8 * 3600 + (day - whole) * 13 * 3600)
        return datetime.combine(self.start + timedelta(days=whole), datetime.min.time()) + timedelta(seconds=seconds)

    def iso(self, day: float) -> str:
        return self.ts(day).isoformat(sep=" ")

    def run(self, p: Person) -> None:
        self.contact(p)
        purchase_days = self.purchases(p)
        opens = self.email_campaigns(p)
        logins = self.web_sessions(p, purchase_days)
        self.service_cases(p)
        self.surveys(p, purchase_days)
        self.lead(p, purchase_days, opens, logins)

    # -- CRM ---------------------------------------------------------------------------------------
    def contact(self, p: Person) -> None:
        if p.loyalty_id is None and p.account_id is None:
            return
        n = self.noise
        contact_id = f"C{p.person_id[1:]}"
        day = max(p.registered_day, 0)
        signup = self.start + timedelta(days=p.registered_day)
        phone = JUNK_PHONE if n.chance(0.01) else n.phone(p.phone)
        row = {
            "contact_id": contact_id, "loyalty_id": p.loyalty_id,
            "first_name": n.first_name(p.first_name), "last_name": n.last_name(p.last_name),
            "email": n.email(p.emails[0]) if not n.chance(0.03) else None, "phone": phone,
            "birth_date": p.birth_date.isoformat() if p.birth_date else None,
            "street": n.street(p.household.street), "city": p.household.city,
            "postcode": n.postcode(p.household.postcode), "country": "GB",
            "signup_date": signup.isoformat(), "signup_channel": "web" if p.account_id else "store",
            "tier": p.tier, "email_opt_in": str(p.email_opt_in).lower(), "sms_opt_in": str(p.sms_opt_in).lower(),
            "updated_at": self.iso(day + 0.1),
        }
        self.sink.add("crm_contacts", day, row, p.person_id, contact_id)
        # Some contacts update their details later: a new version of the same contact.
        if self.rng.random() < 0.08 and day < self.day_count - 1:
            later = self.rng.randint(day + 1, self.day_count - 1)
            update = dict(row, email=n.email(p.emails[-1]), tier=p.tier, updated_at=self.iso(later + 0.5))
            self.sink.add("crm_contacts", later, update, p.person_id, contact_id)

    # -- purchases ---------------------------------------------------------------------------------
    def purchases(self, p: Person) -> list[tuple[float, str]]:
        """BG/NBD-like buying: Poisson purchases while alive, dropping out after a purchase with prob p."""
        days: list[tuple[float, str]] = []
        t = float(max(p.registered_day, 0))
        while True:
            t += self.rng.expovariate(max(p.purchase_rate, 1e-6))
            if t >= self.day_count:
                break
            days.append((t, self.purchase(p, t, campaign=None)))
            if self.rng.random() < p.dropout:
                break
        return days

    def purchase(self, p: Person, day: float, campaign: Campaign | None) -> str:
        amount = round(self.rng.gammavariate(6.0, p.mean_spend / 6.0), 2)
        items = max(1, int(amount // 18) + self.rng.randint(0, 2))
        web = p.account_id is not None and (campaign is not None or self.rng.random() < 0.45)
        if web:
            return self.web_order(p, day, amount, items, campaign)
        return self.receipt(p, day, amount, items)

    def receipt(self, p: Person, day: float, amount: float, items: int) -> str:
        receipt_id = f"R{p.person_id[1:]}-{int(day * 1000):06d}"
        shown = p.loyalty_id is not None and self.rng.random() < 0.75
        status = "voided" if self.rng.random() < 0.02 else "completed"
        row = {
            "receipt_id": receipt_id, "store_id": STORES[zlib.crc32(p.household.postcode.encode()) % len(STORES)]
            if self.rng.random() < 0.8 else self.rng.choice(STORES),
            "loyalty_id": p.loyalty_id if shown else None, "transaction_at": self.ts(day),
            "status": status, "amount": amount, "items": items, "currency": "GBP",
            "payment_method": self.rng.choice(["card", "card", "cash", "contactless"]),
        }
        self.sink.add("pos_transactions", int(day), row, p.person_id, receipt_id)
        self.order_lines(receipt_id, "store", day, amount, items)
        return "store"

    def order_lines(self, order_id: str, channel: str, day: float, amount: float, items: int) -> None:
        for line in self.baskets.lines(order_id, channel, self.iso(day), amount, items):
            self.sink.add("order_lines", int(day), line, None, f"{channel}:{order_id}#{line['line_number']}")

    def web_order(self, p: Person, day: float, amount: float, items: int, campaign: Campaign | None) -> str:
        n = self.noise
        order_id = f"W{p.person_id[1:]}-{int(day * 1000):06d}"
        status = self.rng.choices(list(WEB_ORDER_STATUSES), weights=list(WEB_ORDER_STATUSES.values()))[0]
        code = campaign.code if campaign is not None and self.rng.random() < 0.5 else None
        email = self.rng.choice(JUNK_EMAILS) if n.chance(0.005) else n.email(self.rng.choice(p.emails))
        row = {
            "order_id": order_id, "account_id": p.account_id, "email": email,
            "first_name": n.first_name(p.first_name), "last_name": n.last_name(p.last_name),
            "phone": n.phone(p.phone) if self.rng.random() < 0.7 else None,
            "ship_street": n.street(p.household.street), "ship_city": p.household.city,
            "ship_postcode": n.postcode(p.household.postcode), "ship_country": "GB",
            "ordered_at": self.iso(day), "status": status, "amount": f"{amount:.2f}", "items": items,
            "currency": "GBP", "campaign_code": code,
        }
        self.sink.add("ecommerce_orders", int(day), row, p.person_id, order_id)
        self.order_lines(order_id, "web", day, amount, items)
        self.session(p, day, logged_in=True, utm=campaign.campaign_id if campaign else None, purchase=True)
        return "web"

    # -- marketing ---------------------------------------------------------------------------------
    def email_campaigns(self, p: Person) -> list[float]:
        """The person's campaign emails; returns the days they opened one."""
        opens: list[float] = []
        if not p.email_opt_in or not (p.loyalty_id or p.account_id):
            return opens
        email = p.emails[0]
        for c in self.campaigns:
            if c.channel != "email" or c.start_day < p.registered_day:
                continue
            targeted = c.audience is not None and p.account_id is not None
            if c.audience is not None and not targeted:
                continue  # not in the campaign's audience
            if targeted and self.rng.random() < AUDIENCE_TEST["holdout_share"]:
                events = [("held_out", 0.0)]
                self._email_events(p, c, email, events)
                continue
            if targeted and self.rng.random() < AUDIENCE_TEST["extra_purchase"]:
                self.campaign_purchase(p, c, c.start_day + self.rng.uniform(0, 6))
            events = [("sent", 0.0)]
            if self.rng.random() < 0.03:
                events.append(("bounced", 0.01))
            else:
                events.append(("delivered", 0.01))
                if self.rng.random() < 0.3:
                    opened = self.rng.uniform(0.05, 3)
                    events.append(("opened", opened))
                    opens.append(c.start_day + opened)
                    if self.rng.random() < 0.25:
                        clicked = opened + self.rng.uniform(0, 0.05)
                        events.append(("clicked", clicked))
                        if self.rng.random() < 0.2:
                            self.campaign_purchase(p, c, clicked + self.rng.uniform(0, ATTRIBUTION_DAYS - 1))
                    if self.rng.random() < 0.01:
                        events.append(("unsubscribed", opened + 0.01))
            self._email_events(p, c, email, events)
        return opens

    def _email_events(self, p: Person, c: Campaign, email: str, events: list[tuple[str, float]]) -> None:
        for kind, offset in events:
            day = c.start_day + offset
            if day >= self.day_count:
                continue
            event_id = f"EE-{c.campaign_id}-{p.person_id[1:]}-{kind[:3]}"
            row = {"event_id": event_id, "campaign_id": c.campaign_id, "email": self.noise.email(email),
                   "event_type": kind, "event_at": self.iso(day)}
            self.sink.add("email_events", int(day), row, p.person_id, event_id)

    def campaign_purchase(self, p: Person, c: Campaign, day: float) -> None:
        if day < self.day_count and p.account_id is not None:
            amount = round(self.rng.gammavariate(6.0, p.mean_spend / 6.0), 2)
            self.web_order(p, day, amount, max(1, int(amount // 18)), c)

    # -- web ---------------------------------------------------------------------------------------
    def web_sessions(self, p: Person, purchase_days: list[tuple[float, str]]) -> list[float]:
        """The person's web sessions; returns the days of those they were logged in to (the ones a CRM sees)."""
        logins: list[float] = []
        browsing = self.rng.random() < 0.6
        if not browsing:
            return logins
        first = max(p.registered_day, 0)
        count = min(int(self.rng.expovariate(1 / 3)) + len(purchase_days), 40)
        paid = [c for c in self.campaigns if c.channel != "email"]
        for _ in range(count):
            day = self.rng.uniform(first, self.day_count - 0.01)
            active = [c for c in paid if c.start_day <= day <= c.end_day]
            utm = active[0].campaign_id if active and self.rng.random() < 0.3 else None
            logged_in = p.account_id is not None and self.rng.random() < 0.5
            self.session(p, day, logged_in=logged_in, utm=utm)
            if logged_in:
                logins.append(day)
        if p.account_id and p.registered_day >= 0:
            self.web_event(p, p.registered_day + 0.05, "sign_up", "/account/new", None, True)
        return logins

    def session(self, p: Person, day: float, logged_in: bool, utm: str | None, purchase: bool = False) -> None:
        pages = ["/", "/new-in", "/women", "/men", "/home", "/sale", "/product/{}".format(self.rng.randint(1, 500))]
        for k in range(self.rng.randint(1, 4)):
            self.web_event(p, day + k * 0.001, "page_view", self.rng.choice(pages), utm if k == 0 else None, logged_in)
        if logged_in:
            self.web_event(p, day + 0.004, "login", "/account/login", None, True)
        if purchase or self.rng.random() < 0.2:
            self.web_event(p, day + 0.005, "add_to_cart", "/basket", None, logged_in)
        if purchase:
            self.web_event(p, day + 0.006, "checkout", "/checkout/complete", None, logged_in)

    def web_event(self, p: Person, day: float, kind: str, url: str, utm: str | None, logged_in: bool) -> None:
        if day >= self.day_count:
            return
        event_id = f"WE-{p.person_id[1:]}-{int(day * 100000):09d}-{kind[:2]}"
        row = {"event_id": event_id, "cookie_id": self.rng.choice(p.cookies),
               "account_id": p.account_id if logged_in else None,
               "email": self.noise.email(p.emails[0]) if logged_in else None,
               "event_type": kind, "page_url": url, "utm_campaign": utm, "event_at": self.iso(day)}
        self.sink.add("web_events", int(day), row, p.person_id, event_id)

    # -- service -----------------------------------------------------------------------------------
    def service_cases(self, p: Person) -> None:
        first = max(p.registered_day, 0)
        span = self.day_count - first
        count = sum(1 for _ in range(3) if self.rng.random() < 0.25 * span / 365)
        renewal_due = self.rng.random() < 0.08 * span / 365
        for k in range(count + renewal_due):
            category = "renewal" if k == count else self.rng.choices(
                ["complaint", "inquiry", "return", "technical"], weights=[30, 45, 15, 10])[0]
            self.case(p, k, category, self.rng.uniform(first, self.day_count - 0.01))

    def case(self, p: Person, k: int, category: str, day: float) -> None:
        n = self.noise
        case_id = f"CS{p.person_id[1:]}-{k}"
        opened = self.ts(day)
        first_response = opened + timedelta(hours=self.rng.uniform(0.05, 30))
        resolve_days = self.rng.lognormvariate(0.5 if category == "complaint" else -0.5, 0.9)
        resolved = opened + timedelta(days=resolve_days)
        resolved_day = day + resolve_days
        contacts = 1 if self.rng.random() < 0.6 else self.rng.randint(2, 5)
        rated = self.rng.random() < 0.55
        good = 0.45 if category == "complaint" else 0.8
        csat = (self.rng.choice([4, 5]) if self.rng.random() < good else self.rng.choice([1, 2, 3])) if rated else None
        renewal = ("renewed" if self.rng.random() < 0.7 else "not_renewed") if category == "renewal" else None
        row = {
            "case_id": case_id,
            "email": n.email(self.rng.choice(p.emails)) if self.rng.random() < 0.75 else None,
            "phone": n.phone(p.phone) if self.rng.random() < 0.6 else None,
            "first_name": n.first_name(p.first_name), "last_name": n.last_name(p.last_name),
            "channel": self.rng.choices(["phone", "email", "chat", "store"], weights=[45, 30, 20, 5])[0],
            "category": category, "agent_id": self.rng.choice(AGENTS),
            "opened_at": opened.isoformat(sep=" "), "first_response_at": first_response.isoformat(sep=" "),
            "resolved_at": resolved.isoformat(sep=" ") if resolved_day < self.day_count else None,
            "contacts": contacts, "csat": csat, "renewal_outcome": renewal,
        }
        if row["email"] is None and row["phone"] is None:
            row["phone"] = n.phone(p.phone)
        # The case is delivered once it is closed (or at the end of the window while still open).
        delivered = min(int(resolved_day), self.day_count - 1)
        self.sink.add("service_cases", delivered, row, p.person_id, case_id)

    def surveys(self, p: Person, purchase_days: list[tuple[float, str]]) -> None:
        for k, (day, _) in enumerate(purchase_days):
            if self.rng.random() >= 0.06:
                continue
            answered = day + self.rng.uniform(1, 5)
            if answered >= self.day_count:
                continue
            score = min(10, max(0, int(round(self.rng.gauss(7.6, 2.2)))))
            response_id = f"NPS{p.person_id[1:]}-{k}"
            row = {"response_id": response_id, "email": self.noise.email(p.emails[0]), "score": score,
                   "comment": self.rng.choice(["", "Great service", "Delivery was late", "Love the range",
                                               "Too expensive", "Friendly staff"]) or None,
                   "responded_at": self.iso(answered)}
            self.sink.add("survey_responses", int(answered), row, p.person_id, response_id)

    # -- sales -------------------------------------------------------------------------------------
    def lead(self, p: Person, purchase_days: list[tuple[float, str]], opens: list[float],
             logins: list[float]) -> None:
        """A sales lead for some people. Whether a closed lead was won follows LEAD_CONVERSION (the truth a lead
        score is measured against) over what the CRM can see when the lead is created: sales calls, the source,
        email opens and logged-in web visits before it, and whether the person had already bought."""
        if self.rng.random() >= 0.06:
            return
        n = self.noise
        created = self.rng.uniform(0, self.day_count - 1)
        campaign = self.rng.choice(self.campaigns) if self.campaigns and self.rng.random() < 0.4 else None
        source = "campaign" if campaign else self.rng.choice(["web_form", "event", "referral"])
        calls = self.rng.randint(0, 6)
        truth = LEAD_CONVERSION
        logit = (truth["intercept"] + truth["per_sales_call"] * calls + truth["source"].get(source, 0.0)
                 + truth["opened_email_before"] * any(d < created for d in opens)
                 + truth["logged_in_visit_before"] * any(d < created for d in logins)
                 + truth["existing_customer"] * any(d < created for d, _ in purchase_days))
        # the older a lead, the likelier it is closed; a closed one is won with the probability above
        closed = self.rng.random() < min(0.9, (self.day_count - created) / 60)
        won = self.rng.random() < 1 / (1 + math.exp(-logit))
        later = [d for d, _ in purchase_days if d > created]
        close_day = later[0] if later else created + self.rng.uniform(2, 40)
        if closed and won and close_day < self.day_count:
            stage, converted = "won", self.iso(close_day)
        elif closed and not won:
            stage, converted = "lost", None
        else:  # not closed yet, or to be won after the window ends
            stage, converted = self.rng.choice(["new", "contacted", "qualified"]), None
        lead_id = f"LD{p.person_id[1:]}"
        row = {"lead_id": lead_id, "first_name": n.first_name(p.first_name), "last_name": n.last_name(p.last_name),
               "email": n.email(p.emails[0]) if self.rng.random() < 0.85 else None,
               "phone": n.phone(p.phone) if self.rng.random() < 0.6 else None,
               "lead_source": source, "campaign_id": campaign.campaign_id if campaign else None, "stage": stage,
               "owner_id": self.rng.choice(SALES_REPS), "sales_calls": calls,
               "created_at": self.iso(created), "converted_at": converted}
        self.sink.add("sales_leads", int(created), row, p.person_id, lead_id)
