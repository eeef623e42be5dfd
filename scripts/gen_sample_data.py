#!/usr/bin/env python3
"""Generate the synthetic "shop" sample dataset used by demos, tests and the dbt starter.

Writes customers.csv, products.csv, orders.csv, order_items.csv and payments.csv
(UTF-8, comma-delimited, RFC 4180 quoting, '\\n' line endings, empty field = NULL).
Standard library only, fixed seed, no network: two runs produce byte-identical files.

Usage: python3 scripts/gen_sample_data.py [--out DIR]   (default: <repo>/data/sample/shop)
"""
import argparse
import csv
import random
import unicodedata
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

SEED = 20240101
N_CUSTOMERS, N_ORDERS = 500, 2000
CENT = Decimal("0.01")
Y_START, Y_END = datetime(2024, 1, 1), datetime(2024, 12, 31, 23, 59, 59)

# country: (weight, cities, first names, last names) -- cities weighted 30/20/15/15/10/10
COUNTRIES = {
    "United States": (28, ["New York", "Los Angeles", "Chicago", "Austin", "Seattle", "Washington, D.C."],
                      ["James", "Mary", "Michael", "Jennifer", "David", "Emily", "Chris", "Ashley", "Daniel", "Sarah"],
                      ["Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "O'Brien", "Martinez", "Lee"]),
    "Germany": (18, ["Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Leipzig"],
                ["Lukas", "Anna", "Jonas", "Lea", "Felix", "Sophie", "Maximilian", "Jürgen", "Lena", "Paul"],
                ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer", "Hoffmann"]),
    "United Kingdom": (15, ["London", "Manchester", "Birmingham", "Edinburgh", "Bristol", "Leeds"],
                       ["Oliver", "Amelia", "Harry", "Isla", "Jack", "Zoë", "George", "Emily", "Charlie", "Grace"],
                       ["Smith", "Jones", "Taylor", "O'Brien", "Evans", "Wilson", "Thomas", "Roberts", "Walker", "Wright"]),
    "France": (11, ["Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Bordeaux"],
               ["Léa", "Hugo", "Chloé", "Louis", "Manon", "Gabriel", "Camille", "Jules", "Inès", "Raphaël"],
               ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau"]),
    "Canada": (9, ["Toronto", "Montréal", "Vancouver", "Calgary", "Ottawa", "Québec City"],
               ["Liam", "Olivia", "Noah", "Emma", "William", "Charlotte", "Ethan", "Chloé", "Benjamin", "Ava"],
               ["Tremblay", "Roy", "Gagnon", "Smith", "Brown", "Wilson", "MacDonald", "O'Connor", "Côté", "Campbell"]),
    "Brazil": (8, ["São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba", "Porto Alegre", "Brasília"],
               ["João", "Maria", "Pedro", "Ana", "Lucas", "Júlia", "Gabriel", "Beatriz", "Rafael", "Larissa"],
               ["Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues", "Almeida", "Gonçalves", "Araújo"]),
    "Japan": (6, ["Tokyo", "Osaka", "Yokohama", "Nagoya", "Sapporo", "Fukuoka"],
              ["Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Yuto", "Mei", "Riku", "Sakura"],
              ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato"]),
    "Australia": (5, ["Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide", "Canberra"],
                  ["Jack", "Charlotte", "William", "Olivia", "Thomas", "Mia", "Lachlan", "Isla", "Henry", "Ruby"],
                  ["Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Nguyen", "Kelly", "Ryan", "Murphy"]),
}
CITY_WEIGHTS = [30, 20, 15, 15, 10, 10]

PRODUCTS = {  # category: [(product_name, list price)]
    "Kitchen": [("Ceramic Coffee Mug", "12.99"), ("Stainless Steel Kettle", "39.00"), ("Chef's Knife, 8-inch", "54.50"),
                ("Bamboo Cutting Board", "24.99"), ("French Press", "32.00"), ("Cast Iron Skillet", "45.00"),
                ("Glass Storage Jars (Set of 3)", "19.99"), ("Silicone Spatula Set", "14.50"),
                ("Espresso Cup Set", "22.00"), ("Olive Wood Salad Bowl", "38.00")],
    "Office": [("Notebook, A5 Dotted", "9.99"), ("Gel Pen 10-Pack", "7.49"), ("Desk Organizer", "21.00"),
               ("Heavy-Duty Stapler", "16.99"), ("Sticky Notes Cube", "5.99"), ("LED Desk Lamp", "42.00"),
               ("Monitor Stand", "36.50"), ("Weekly Planner 2025", "18.00"), ("Leather Document Folder", "29.99"),
               ("Magnetic Whiteboard", "48.00")],
    "Electronics": [("Wireless Earbuds", "79.99"), ("USB-C Charging Cable", "11.99"), ("Bluetooth Speaker", "59.00"),
                    ("Portable Power Bank", "34.99"), ("Mechanical Keyboard", "89.00"), ("Wireless Mouse", "24.99"),
                    ("HD Webcam", "64.50"), ("Smart Plug", "19.99"), ("Noise-Cancelling Headphones", "149.00"),
                    ("E-Reader Sleeve", "21.50")],
    "Apparel": [("Organic Cotton T-Shirt", "24.00"), ("Merino Wool Beanie", "29.00"), ("Canvas Tote Bag", "18.50"),
                ("Rain Jacket", "89.00"), ("Running Socks (3 Pairs)", "15.99"), ("Denim Jacket", "79.00"),
                ("Fleece Hoodie", "54.00"), ("Leather Belt", "35.00"), ("Linen Scarf", "27.50"),
                ("Baseball Cap", "19.99")],
    "Outdoor": [("Insulated Water Bottle", "27.99"), ("Camping Lantern", "31.00"), ("Trekking Poles", "64.00"),
                ("Picnic Blanket", "36.00"), ("Two-Person Tent", "189.00"), ("Daypack 20L", "58.00"),
                ("Folding Camp Chair", "42.50"), ("Compact Binoculars", "99.00"), ("Hammock", "49.99"),
                ("First Aid Kit", "23.50")],
    "Home Decor": [("Scented Soy Candle", "16.00"), ("Linen Cushion Cover", "22.50"), ("Woven Throw Blanket", "59.00"),
                   ("Ceramic Plant Pot", "18.99"), ("Wall Clock", "44.00"), ("Framed Art Print", "69.00"),
                   ("Table Runner", "26.00"), ("Glass Vase", "31.50"), ("Jute Area Rug", "129.00"),
                   ("Photo Frame Set", "34.00")],
}


def pick(rng, weighted):
    """Pick a key from a {value: weight} dict (dict order is insertion order, so deterministic)."""
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def rand_ts(rng, lo, hi):
    return lo + timedelta(seconds=rng.randint(0, int((hi - lo).total_seconds())))


def money(x):
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def ascii_slug(s):
    return "".join(c for c in unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower() if c.isalnum())


def gen_customers(rng):
    rows, emails = [], set()
    for cid in range(1, N_CUSTOMERS + 1):
        country = pick(rng, {k: v[0] for k, v in COUNTRIES.items()})
        _, cities, firsts, lasts = COUNTRIES[country]
        first, last = rng.choice(firsts), rng.choice(lasts)
        domain = rng.choice(["example.com", "example.net", "example.org"])
        email = f"{ascii_slug(first)}.{ascii_slug(last)}@{domain}"
        if email in emails:
            email = f"{ascii_slug(first)}.{ascii_slug(last)}{cid}@{domain}"
        emails.add(email)
        rows.append({"customer_id": cid, "first_name": first, "last_name": last, "email": email,
                     "country": country, "city": rng.choices(cities, CITY_WEIGHTS)[0],
                     "signup_date": date(2023, 1, 1) + timedelta(days=rng.randint(0, 730)),
                     "segment": pick(rng, {"consumer": 70, "small_business": 20, "corporate": 10})})
    return rows


def gen_products(rng):
    rows = []
    for category, items in PRODUCTS.items():
        for name, price in items:
            price = money(price)
            rows.append({"product_id": len(rows) + 1, "product_name": name, "category": category,
                         "unit_price": price, "cost": money(price * rng.randint(35, 70) / 100),
                         "is_active": "false" if rng.random() < 0.1 else "true"})
    return rows


def order_status(rng, ts):
    age = (Y_END - ts).days  # recent orders cannot be delivered yet
    if age < 3:
        return pick(rng, {"placed": 9, "cancelled": 1})
    if age < 10:
        return pick(rng, {"shipped": 6, "delivered": 3, "cancelled": 1})
    return pick(rng, {"delivered": 78, "cancelled": 8, "returned": 7, "shipped": 5, "placed": 2})


def gen_orders(rng, customers):
    activity = [rng.expovariate(1.0) for _ in customers]  # a few heavy buyers, some never order
    drafts = []
    for _ in range(N_ORDERS):
        c = rng.choices(customers, activity)[0]
        ts = rand_ts(rng, max(Y_START, datetime.combine(c["signup_date"], datetime.min.time())), Y_END)
        country = c["country"] if rng.random() < 0.95 else rng.choice([k for k in COUNTRIES if k != c["country"]])
        drafts.append((ts, c["customer_id"], country, pick(rng, {"web": 55, "mobile": 30, "store": 15})))
    drafts.sort(key=lambda d: (d[0], d[1]))  # order_id increases with time
    return [{"order_id": i, "customer_id": cid, "order_date": ts, "status": order_status(rng, ts),
             "shipping_country": country, "channel": channel}
            for i, (ts, cid, country, channel) in enumerate(drafts, 1)]


def line_total(item):
    return money(item["quantity"] * item["unit_price"] * (1 - item["discount"]))


def gen_items(rng, orders, products):
    popularity = [rng.expovariate(1.0) * (0.3 if p["is_active"] == "false" else 1.0) for p in products]
    rows = []
    for o in orders:
        chosen = []
        for _ in range(pick(rng, {1: 25, 2: 25, 3: 20, 4: 17, 5: 13})):
            p = rng.choices(products, popularity)[0]
            if p not in chosen:
                chosen.append(p)
        for p in chosen:
            price = p["unit_price"] if rng.random() >= 0.05 else money(p["unit_price"] * Decimal("0.90"))
            discount = Decimal("0.00") if rng.random() < 0.8 else Decimal(rng.choice(["0.05", "0.10", "0.15", "0.20", "0.25", "0.30"]))
            rows.append({"order_item_id": len(rows) + 1, "order_id": o["order_id"], "product_id": p["product_id"],
                         "quantity": pick(rng, {1: 50, 2: 25, 3: 12, 4: 8, 5: 5}), "unit_price": price,
                         "discount": discount})
    return rows


def gen_payments(rng, orders, totals):
    rows = []
    def pay(o, method, amount, after):
        delay = timedelta(days=rng.randint(1, 3), seconds=rng.randint(0, 36000)) if method == "bank_transfer" \
            else timedelta(seconds=rng.randint(0, 300))
        rows.append({"payment_id": len(rows) + 1, "order_id": o["order_id"], "payment_method": method,
                     "amount": amount, "paid_at": after + delay})
        return after + delay

    for o in orders:
        if o["status"] == "cancelled":
            continue
        total = totals[o["order_id"]]
        if total > 30 and rng.random() < 0.1:  # partial gift card, rest by card/paypal
            gift = money(rng.choice([10, 20, 25]))
            t = pay(o, "gift_card", gift, o["order_date"])
            pay(o, pick(rng, {"card": 3, "paypal": 1}), total - gift, t + timedelta(seconds=rng.randint(1, 120)))
        else:
            pay(o, pick(rng, {"card": 55, "paypal": 25, "bank_transfer": 12, "gift_card": 8}), total, o["order_date"])
    return rows


def check(customers, products, orders, items, payments, totals):
    cust_ids, prod_ids = {c["customer_id"] for c in customers}, {p["product_id"] for p in products}
    order_by_id = {o["order_id"]: o for o in orders}
    assert len({c["email"] for c in customers}) == len(customers), "duplicate email"
    assert len({p["product_name"] for p in products}) == len(products), "duplicate product name"
    assert all(Decimal(0) < p["cost"] < p["unit_price"] for p in products)
    assert all(o["customer_id"] in cust_ids for o in orders), "orders.customer_id FK"
    assert all(i["order_id"] in order_by_id and i["product_id"] in prod_ids for i in items), "order_items FK"
    assert set(order_by_id) == {i["order_id"] for i in items}, "every order has at least one item"
    paid = {}
    for p in payments:
        o = order_by_id[p["order_id"]]  # KeyError would mean a broken FK
        assert o["status"] != "cancelled" and p["paid_at"] >= o["order_date"] and p["amount"] > 0
        paid[p["order_id"]] = paid.get(p["order_id"], Decimal(0)) + p["amount"]
    assert all(paid.get(o["order_id"]) == totals[o["order_id"]] for o in orders if o["status"] != "cancelled")
    names = {c["last_name"] for c in customers} | {c["first_name"] for c in customers}
    assert "O'Brien" in names and "Müller" in names and "Zoë" in names, "edge-case names missing"
    assert any("," in c["city"] for c in customers) and any(c["city"] == "São Paulo" for c in customers)


def fmt(v):
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return "" if v is None else str(v)  # date/Decimal/int already render as ISO / plain numbers


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(list(rows[0]))
        w.writerows([fmt(v) for v in r.values()] for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data" / "sample" / "shop")
    args = ap.parse_args()

    rng = random.Random(SEED)
    customers = gen_customers(rng)
    products = gen_products(rng)
    orders = gen_orders(rng, customers)
    items = gen_items(rng, orders, products)
    totals = {o["order_id"]: Decimal("0.00") for o in orders}
    for i in items:
        totals[i["order_id"]] += line_total(i)
    payments = gen_payments(rng, orders, totals)
    check(customers, products, orders, items, payments, totals)

    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in [("customers", customers), ("products", products), ("orders", orders),
                       ("order_items", items), ("payments", payments)]:
        write_csv(args.out / f"{name}.csv", rows)
        print(f"{name}.csv: {len(rows)} rows")


if __name__ == "__main__":
    main()
