"""Print the built-in risk rules as the Markdown table docs/risk.md carries (kept equal by a test).

DJANGO_SETTINGS_MODULE=yunying.settings .venv/bin/python scripts/risk_rules_table.py
"""

from __future__ import annotations

import django

WHY = {
    "scripted_client": "A member's phone or browser does not call itself python-requests, okhttp or HeadlessChrome; a script does. Not applied when no user agent was passed (a storefront's server often has none).",
    "inhuman_fill": "Nobody reads and fills a form in 1.5 s; a member's own retry (the form already filled) is exempt.",
    "fast_fill": "Fast but possible (a prefilled form): a small weight, never enough alone.",
    "datacentre_ip": "Members browse from homes and phone networks, farms from rented servers; alone it is not enough (office VPNs exit from clouds).",
    "virtual_number": "Virtual-operator numbers are cheap in bulk and the farms' stock, but millions of honest members use them: a small weight.",
    "device_many_accounts": "Five accounts on one device in a day is a farm's emulator, not a family.",
    "device_shared": "Three or four accounts on one device is often a family: a small weight.",
    "ip_block_burst": "Many new accounts from one cloud /24 within the hour.",
    "ip_block_rotation": "A proxy pool rotates through the addresses of one /24, one account each; a campus NAT puts every student on one address, and carrier gateways (mobile class) are exempt.",
    "fresh_virtual": "A virtual number on an account made within the hour: with virtual_number, a challenge (an SMS code the member can answer).",
    "virtual_wave": "An SMS farm registers its virtual numbers in waves (ten or more in an hour, at four times the day's hourly rate or more); honest members on virtual numbers come one by one. A ratio, so a platform whose members often use virtual numbers has no wave. An honest member who registers inside a farm's wave is flagged too (figures below).",
    "flagged_virtual": "A virtual number whose registration scored 40 or more (one in a wave, say): the careful farm account that waits hours before signing up from a home address still carries its registration.",
    "phone_run": "Numbers bought in a run share a block of a thousand; two strangers' numbers almost never do.",
    "phone_run_long": "A longer run: to review.",
    "fresh_shared_device": "A brand-new account on a device other new accounts use.",
    "fresh_building_neighbours": "A coupon farm varies the room number at one building; a family shares one door.",
    "building_many_accounts": "Many accounts at one building's doors in a day.",
    "ring": "Six or more members linked by shared devices, payers, addresses or identity numbers.",
    "payer_shared": "One payment account paying for three members' orders.",
    "small_first_orders": "Brushing rings place tiny first orders to look like buyers.",
    "address_variants": "Orders and claims shipping to one building from many accounts.",
    "invite_cycle": "Members inviting each other in a circle farm referral rewards.",
    "phone_burst": "Six codes for one number in an hour: someone is not receiving them, or is harvesting. Blocks (a review would still send the code).",
    "ip_sms_burst": "Twenty codes from one non-mobile address in an hour.",
}


def _condition(when: dict) -> str:
    if "all" in when:
        return " and ".join(_condition(part) for part in when["all"])
    if "any" in when:
        return "(" + " or ".join(_condition(part) for part in when["any"]) + ")"
    if "not" in when:
        return f"not ({_condition(when['not'])})"
    return f"`{when['signal']} {when['op']} {when['value']}`"


def rules_table() -> str:
    from yunying.risk.defaults import BUILT_IN

    thresholds = BUILT_IN["thresholds"]
    lines = [
        f"Thresholds: challenge ≥ {thresholds['challenge']}, review ≥ {thresholds['review']}, block ≥ {thresholds['block']}.",
        "",
        "| rule | when | points | entry points | why |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rule in BUILT_IN["rules"]:
        entries = ", ".join(rule.get("entries") or ["all"])
        lines.append(
            f"| `{rule['key']}` | {_condition(rule['when'])} | {rule['points']} | {entries} | {WHY[rule['key']]} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    django.setup()
    print(rules_table())
