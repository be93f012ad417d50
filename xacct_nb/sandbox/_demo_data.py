"""Deterministic demo data for the sandbox: orders (on-demand and provisioned) and a private ledger.

The orders cover every DynamoDB type the type contract speaks of: strings,
integer and fractional numbers, a number beyond int64, booleans, NULL,
string / number / binary sets, lists of maps, nested maps, binary values,
and attributes missing from many items. The same seed always gives the same
items, so notebook outputs can be compared run after run.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

ORDERS_TABLE = "MyCrossAccountTable"
PRIVATE_TABLE = "PrivateLedgerTable"
#: The same orders in a table with provisioned capacity (reads beyond it are throttled).
PROVISIONED_TABLE = "MyProvisionedTable"
#: Its provisioned throughput: a full Scan (about 290 RCU eventually consistent) is ~3 s of it.
PROVISIONED_RCU = 100
PROVISIONED_WCU = 25
#: Its status-index GSI has a throughput of its own.
PROVISIONED_INDEX_RCU = 50
PROVISIONED_INDEX_WCU = 25
STATUS_INDEX = "status-index"
ORDER_ID_INDEX = "order-id-index"
ORDER_COUNT = 3000
CUSTOMER_COUNT = 120
STATUSES = ("pending", "shipped", "delivered", "cancelled", "returned")
CITIES = (
    ("Lisbon", "PT"),
    ("Porto", "PT"),
    ("Berlin", "DE"),
    ("Hamburg", "DE"),
    ("Lyon", "FR"),
    ("Paris", "FR"),
    ("Madrid", "ES"),
    ("Seville", "ES"),
)
PRODUCTS = (
    ("SKU-KETTLE", "Kettle", "34.90"),
    ("SKU-MUG", "Mug", "7.50"),
    ("SKU-TEA", "Green tea 250g", "12.00"),
    ("SKU-GRINDER", "Coffee grinder", "59.00"),
    ("SKU-BEANS", "Coffee beans 1kg", "24.30"),
    ("SKU-FILTER", "Paper filters", "3.10"),
    ("SKU-SCALE", "Kitchen scale", "19.99"),
)
TAGS = ("gift", "repeat", "promo", "b2b", "fragile", "priority")
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
#: 2**64 + 7: beyond int64, must never be rounded.
LEDGER_BASE = 18446744073709551623


def customer_id(i: int) -> str:
    """Partition-key value of the i-th demo customer (1-based)."""
    return f"C-{i:04d}"


def order_items(count: int = ORDER_COUNT, seed: int = 20261127) -> list[dict[str, Any]]:
    """Return the demo orders in DynamoDB wire format (``{"attr": {"S": "..."}}``)."""
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for n in range(count):
        cust = customer_id(rng.randint(1, CUSTOMER_COUNT))
        while True:
            ts = BASE_TIME + timedelta(minutes=rng.randint(0, 60 * 24 * 330))
            order_ts = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
            if (cust, order_ts) not in seen:
                seen.add((cust, order_ts))
                break
        status = rng.choices(STATUSES, weights=(10, 25, 55, 6, 4))[0]
        lines = []
        total_cents = 0
        for _ in range(rng.randint(1, 4)):
            sku, name, price = rng.choice(PRODUCTS)
            qty = rng.randint(1, 5)
            total_cents += qty * int(price.replace(".", ""))
            lines.append(
                {"M": {"sku": {"S": sku}, "name": {"S": name}, "qty": {"N": str(qty)},
                       "unit_price": {"N": price}}}
            )
        city, country = rng.choice(CITIES)
        item: dict[str, Any] = {
            "customer_id": {"S": cust},
            "order_ts": {"S": order_ts},
            "order_id": {"S": f"O-{n + 1:06d}"},
            "status": {"S": status},
            "total": {"N": f"{total_cents // 100}.{total_cents % 100:02d}"},
            "item_count": {"N": str(sum(int(line["M"]["qty"]["N"]) for line in lines))},
            "express": {"BOOL": rng.random() < 0.3},
            "lines": {"L": lines},
            "ship_to": {"M": {"city": {"S": city}, "country": {"S": country},
                              "geo": {"M": {"zone": {"N": str(rng.randint(1, 9))}}}}},
            "ledger_ref": {"N": str(LEDGER_BASE + n)},
        }
        if rng.random() < 0.45:
            item["tags"] = {"SS": sorted(rng.sample(TAGS, rng.randint(1, 3)))}
        if rng.random() < 0.6:
            item["loyalty_points"] = {"N": str(rng.randint(0, 500))}
        if rng.random() < 0.25:
            item["coupon_values"] = {"NS": sorted({str(rng.choice((5, 10, 15, 2.5))) for _ in range(2)})}
        if rng.random() < 0.15:
            item["gift_message"] = {"S": rng.choice(("Happy birthday!", "Congrats", "Enjoy :)"))}
        if status in ("cancelled", "returned"):
            item["refund_reason"] = (
                {"NULL": True} if rng.random() < 0.5
                else {"S": rng.choice(("damaged", "late", "changed mind"))}
            )
        if rng.random() < 0.05:
            item["receipt_png"] = {"B": "iVBORw0KGgo="}  # a PNG signature, base64
        if rng.random() < 0.05:
            item["signatures"] = {"BS": ["AAE=", "AgM="]}
        _add_delivery(item, ts, status, random.Random(seed * 7919 + n))
        items.append(item)
    return items


#: Steps an order goes through before its final status, with what the warehouse logs.
_JOURNEY = {
    "pending": ("pending",),
    "shipped": ("pending", "packed", "shipped"),
    "delivered": ("pending", "packed", "shipped", "out_for_delivery", "delivered"),
    "cancelled": ("pending", "cancelled"),
    "returned": ("pending", "packed", "shipped", "delivered", "return_requested", "returned"),
}
_NOTES = {
    "pending": "Order received; payment authorised by the card issuer",
    "packed": "Picked and packed at warehouse {wh}; parcel weight {kg} kg",
    "shipped": "Handed to carrier {carrier}, tracking number {tracking}",
    "out_for_delivery": "Out for delivery with driver route {route}",
    "delivered": "Delivered and signed for at the front door",
    "cancelled": "Cancelled at the customer's request before packing",
    "return_requested": "Return label {tracking} emailed to the customer",
    "returned": "Return received at warehouse {wh} and inspected",
}
_STREETS = ("Rua das Flores", "Hauptstrasse", "Rue de la Paix", "Calle Mayor", "Avenida da Liberdade",
            "Schillerstrasse", "Boulevard Voltaire", "Gran Via")


def _add_delivery(item: dict[str, Any], placed: datetime, status: str, rng: random.Random) -> None:
    """Add the delivery address and the status history of an order.

    With a second RNG: the other attributes stay what they were.
    """
    city = item["ship_to"]["M"]["city"]["S"]
    country = item["ship_to"]["M"]["country"]["S"]
    item["delivery_address"] = {
        "S": f"{rng.choice(_STREETS)} {rng.randint(1, 240)}, {rng.randint(1000, 99999)} {city}, "
             f"{country}"
    }
    carrier = rng.choice(("DHL", "UPS", "CTT", "Chronopost", "Correos"))
    at = placed
    history = []
    for step in _JOURNEY[status]:
        note = _NOTES[step].format(
            wh=f"{country}-{rng.randint(1, 4)}", kg=f"{rng.randint(2, 90) / 10:.1f}",
            carrier=carrier, tracking=f"{rng.randint(10**11, 10**12 - 1)}{country}",
            route=f"{city[:3].upper()}-{rng.randint(10, 99)}",
        )
        history.append({"M": {"status": {"S": step},
                              "at": {"S": at.strftime("%Y-%m-%dT%H:%M:%SZ")},
                              "note": {"S": note}}})
        at += timedelta(hours=rng.randint(2, 60))
    item["history"] = {"L": history}


def ledger_items() -> list[dict[str, Any]]:
    """Rows of the second table, which no cross-account role is granted."""
    return [
        {"account": {"S": f"ACC-{i:03d}"}, "balance": {"N": str(1000 * i + 17)},
         "owner": {"S": f"Owner {i}"}}
        for i in range(1, 26)
    ]
