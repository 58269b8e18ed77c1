"""PROPRIETARY document kinds: individual-level personal data, secrets, and business
material whose disclosure does real harm. About half carry identifiers layer 1 can see
(records, payroll, credentials); the rest (M&A, trade secrets, privileged advice,
customer pricing) carry none, which is where layer 2 has to earn its keep.
"""

from kinds_shared import BANNERS

B = (0.4, BANNERS["PROPRIETARY"])


def customer_csv(slots, rng, split):
    if split != "heldout":
        head = "customer_id,name,email,phone,plan,mrr"
        rows = [f"{slots.value('acct')},{slots.person()},{slots.value('pemail')},{slots.value('phone')},"
                f"{rng.choice(['pro', 'team', 'enterprise'])},{rng.randint(20, 9000)}" for _ in range(rng.randint(4, 14))]
    else:
        head = "account|full_name|contact|city|dob|balance"
        rows = [f"{slots.value('acct')}|{slots.person()}|{slots.value('pemail')}|{slots.value('city')}|"
                f"{slots.value('dob')}|{rng.randint(10, 90000)}.{rng.randint(10, 99)}" for _ in range(rng.randint(4, 14))]
    return "\n".join([head] + rows)


def payroll_csv(slots, rng, split):
    if split != "heldout":
        head = "employee,ssn,base_salary,bonus,bank_account"
        rows = [f"{slots.person()},{slots.value('ssn')},{slots.value('salary')},{rng.randint(0, 40)}%,"
                f"{rng.randint(10000000, 99999999)}" for _ in range(rng.randint(3, 10))]
    else:
        head = "Name\tTax ID\tGross pay\tDate of birth"
        rows = [f"{slots.person()}\t{slots.value('ssn')}\t{slots.value('salary')}\t{slots.value('dob')}"
                for _ in range(rng.randint(3, 10))]
    return "\n".join([head] + rows)


def secrets_config(slots, rng, split):
    if split != "heldout":
        return (f"DATABASE_URL=postgres://svc_{slots.value('team').replace(' ', '_')}:{slots.value('key')[:20]}@{slots.value('host')}:5432/prod\n"
                f"AWS_ACCESS_KEY_ID={slots.value('awskey')}\nAWS_SECRET_ACCESS_KEY={slots.value('key')}\n"
                f"STRIPE_SECRET=sk_live_{slots.value('key')[:24]}\n")
    return (f"credentials:\n  smtp_password: \"{slots.value('key')[:18]}\"\n  signing_key: |\n"
            f"    -----BEGIN PRIVATE KEY-----\n    MIIEv{slots.value('key')}{slots.value('key')}\n    -----END PRIVATE KEY-----\n"
            f"  webhook_token: {slots.value('key')}\n")


def secret_algo(slots, rng, split):
    if split != "heldout":
        return ("def risk_score(txn, profile):\n    # weights fitted on 3 years of chargeback data; do not publish\n"
                f"    s = 0.{rng.randint(10, 99)} * txn.velocity_1h + 1.{rng.randint(0, 9)} * profile.geo_mismatch\n"
                f"    s += 2.{rng.randint(0, 9)} * (txn.amount > profile.p95_amount)\n    return min(1.0, s / {rng.randint(3, 9)}.0)\n")
    return ("// bid shading model v4 — core IP, internal repository only\nfunction shade(bid: number, ctx: Ctx): number {\n"
            f"  const k = {rng.randint(50, 95)} / 100;\n  return bid * (k - ctx.winRate * 0.{rng.randint(10, 40)});\n}}\n")


PROPRIETARY_KINDS = [
    {
        "name": "customer_records", "tier": "PROPRIETARY", "banner": B, "layout": "lines", "paragraphs": (0, 1),
        "titles": ["Customer export {date}", "CRM extract — enterprise accounts", "Accounts due for renewal",
                   "Churn risk list with contacts", "Support escalation contacts", "Loyalty members extract"],
        "sentences": [
            "Exported from the CRM for the renewal campaign; delete after use.",
            "Contains personal data of customers; handle under the data protection policy.",
            "Do not upload this file to third-party tools.",
            "Sorted by monthly recurring revenue.",
            "Accounts flagged by the success team are marked with an asterisk.",
            "Only the account owner may contact these customers.",
        ],
        "generator": customer_csv,
    },
    {
        "name": "hr_individual", "tier": "PROPRIETARY", "banner": B, "layout": "prose",
        "titles": ["Performance review: {person}", "Performance improvement plan — {person}", "Exit interview notes",
                   "Disciplinary meeting summary", "Compensation adjustment for {person}", "Grievance investigation notes"],
        "sentences": [
            "{person} did not meet expectations on delivery this cycle.",
            "Proposed salary increase from {salary} to {salary}, effective {date}.",
            "The employee disclosed a medical condition that affects attendance.",
            "Witness statements were collected from two colleagues.",
            "{first} will be placed on a sixty-day improvement plan.",
            "Rating: 2 of 5; not eligible for promotion this cycle.",
            "The manager documented three late deliveries and one missed escalation.",
            "Severance offered: {n} weeks of base pay subject to signing a release.",
            "{first} reported feeling excluded from team decisions.",
            "Outcome: written warning placed on the personnel file.",
            "Home address and emergency contact updated in the HR system.",
            "Retention bonus of {money} approved by the VP.",
        ],
    },
    {
        "name": "payroll", "tier": "PROPRIETARY", "banner": B, "layout": "lines", "paragraphs": (0, 1),
        "titles": ["Payroll run {month} {year}", "Compensation data — {team}", "Bonus payout file",
                   "Salary bands with incumbents", "Payroll corrections", "Equity grants register"],
        "sentences": [
            "Prepared by payroll; restricted to HR and finance.",
            "Figures are gross, before tax and deductions.",
            "Corrections from the previous run are highlighted.",
            "Bank details verified against onboarding forms.",
            "Upload to the payroll provider by the cut-off.",
            "Do not email this file unencrypted.",
        ],
        "generator": payroll_csv,
    },
    {
        "name": "credentials", "tier": "PROPRIETARY", "banner": (0.1, BANNERS["PROPRIETARY"]), "layout": "lines", "paragraphs": (0, 1),
        "titles": ["# .env.production", "# secrets for {svc}", "# vault export", "# service account credentials",
                   "# break-glass access", "# CI deploy secrets"],
        "sentences": [
            "# rotate these after the contractor offboarding",
            "# production values; never commit",
            "# generated by the bootstrap script",
            "# shared with the {team} on-call only",
            "# expires {date}",
            "# copy to the secret manager and delete this file",
        ],
        "generator": secrets_config,
    },
    {
        "name": "mna_memo", "tier": "PROPRIETARY", "banner": B, "layout": "prose",
        "titles": ["Project {prod}: acquisition of {co2}", "Board memo — proposed merger", "Deal team update",
                   "Target valuation summary", "Integration planning (pre-announcement)", "Letter of intent — discussion draft"],
        "sentences": [
            "We propose to acquire {co2} for {money} in cash and stock.",
            "The board is asked to approve entering exclusivity until {date}.",
            "Knowledge of this transaction is limited to the deal team; insider trading rules apply.",
            "Synergies are estimated at {money} per year from the second year.",
            "{co2}'s founders have agreed in principle to a four-year retention package.",
            "Due diligence has not uncovered material litigation.",
            "The code name {prod} must be used in all communications.",
            "Announcement is targeted for the week after earnings.",
            "Financing will come from the revolving credit facility.",
            "Layoffs of approximately {n} roles are expected after integration.",
            "The premium over the last closing price is {pct}.",
            "Regulatory approval in {city} is the main timing risk.",
        ],
    },
    {
        "name": "board_minutes", "tier": "PROPRIETARY", "banner": B, "layout": "prose",
        "titles": ["Minutes of the board of directors meeting, {date}", "Audit committee minutes", "Board pack — {q}",
                   "Compensation committee resolutions", "Executive session notes", "Special board meeting"],
        "sentences": [
            "The board discussed the CEO succession plan in executive session.",
            "Resolved: to approve the restructuring plan presented by management.",
            "The audit committee reviewed a whistleblower report concerning revenue recognition.",
            "Directors were reminded that these deliberations are confidential.",
            "The board approved executive bonuses totalling {money}.",
            "Management presented the unannounced {q} results, below consensus.",
            "The board authorised management to explore a sale of the {ind} division.",
            "Counsel briefed the board on the pending regulatory investigation.",
            "A motion to raise {money} in a private placement was carried.",
            "The CFO will step down; the departure will be announced later.",
            "The meeting adjourned at 18:40.",
            "The board reviewed the cyber risk register.",
        ],
    },
    {
        "name": "trade_secret", "tier": "PROPRIETARY", "banner": B, "layout": "prose", "paragraphs": (1, 4),
        "titles": ["{prod} ranking model: feature weights", "Formulation sheet — batch {n}", "Pricing algorithm internals",
                   "Fraud rules (do not share)", "Manufacturing process parameters", "Recommendation model design"],
        "sentences": [
            "The ranking formula combines recency, margin and predicted return with the weights below.",
            "Curing temperature must stay between 182 and 187 degrees for {n} minutes.",
            "Our fraud thresholds are tuned so that the false positive rate stays under {pct}.",
            "The secret ingredient ratio is 3 parts resin to 1 part hardener with additive K{n}.",
            "Competitors cannot reproduce this without the calibration dataset.",
            "The patent application has not been filed; treat as a trade secret.",
            "Feature importance: basket size, device age, time since last login.",
            "Yield improved by {pct} after the change to the annealing step.",
            "Rules are evaluated in the order listed; order matters.",
            "This document is the only written description of the process.",
            "Supplier identities for the rare-earth inputs are listed in annex B.",
            "Model weights live in the restricted bucket.",
        ],
        "generator": lambda slots, rng, split: secret_algo(slots, rng, split) if rng.random() < 0.5 else "",
    },
    {
        "name": "customer_pricing", "tier": "PROPRIETARY", "banner": B, "layout": "bullets",
        "titles": ["Discount approvals — {q}", "Enterprise pricing: {co2}", "Deal desk: non-standard terms",
                   "Margin by customer", "Price floor guidance for sales", "Renewal pricing for top accounts"],
        "sentences": [
            "{co2}: {pct} discount off list, approved by the CRO.",
            "Floor price for enterprise is {money} per seat per year; never quote below it.",
            "{co2} pays {money} per year under a custom cap on usage.",
            "Margin on the {co2} account is negative after support costs.",
            "Most-favoured-customer clause applies to {co2} until {date}.",
            "Do not reveal other customers' pricing in negotiations.",
            "Competitive displacement deals may go to {pct} off with VP approval.",
            "{co2} renewal: hold price, offer premium support at no cost.",
            "Cost to serve per customer is listed in column F.",
            "Our internal target margin is {pct}.",
            "Side letter grants {co2} a free year if uptime drops below 99.9%.",
            "The list price increase will not apply to grandfathered accounts.",
        ],
    },
    {
        "name": "legal_privileged", "tier": "PROPRIETARY", "banner": (0.5, BANNERS["PROPRIETARY"]), "layout": "prose",
        "titles": ["Privileged: litigation assessment", "Legal memo — exposure analysis", "Counsel advice on the data incident",
                   "Settlement strategy", "Regulatory inquiry response plan", "Attorney work product"],
        "sentences": [
            "This memo is protected by attorney-client privilege and prepared in anticipation of litigation.",
            "Our assessment is that the claim has a moderate chance of success.",
            "Estimated exposure ranges from {money} to {money}.",
            "We recommend settling before discovery begins.",
            "The regulator has asked for records relating to {n} customers.",
            "Internal emails from {month} could be damaging if produced.",
            "Do not forward; forwarding may waive privilege.",
            "Outside counsel at {co2} has been engaged.",
            "The breach may trigger notification duties in {n} jurisdictions.",
            "Preserve all documents under the legal hold issued on {date}.",
            "The opposing party has not yet made a settlement demand.",
            "Reserve {money} in the accounts for this matter.",
        ],
    },
    {
        "name": "patient_record", "tier": "PROPRIETARY", "banner": B, "layout": "lines",
        "titles": ["Patient summary — {person}", "Discharge letter", "Clinical notes", "Referral: {person}",
                   "Lab results", "Care plan"],
        "sentences": [
            "Patient: {person}, DOB {dob}, MRN {acct}.",
            "Diagnosis: {diag}; medication adjusted today.",
            "Allergies: penicillin.",
            "Follow-up appointment booked for {date}.",
            "Contact: {phone}.",
            "Blood pressure 142/91, heart rate 88.",
            "Referred to cardiology at {co}.",
            "History of {diag} since {year}.",
            "Insurance member number {acct}.",
            "The patient consented to sharing results with their GP.",
            "Next of kin: {person}, {phone}.",
            "HbA1c 7.{n}%.",
        ],
    },
    {
        "name": "vuln_report", "tier": "PROPRIETARY", "banner": B, "layout": "prose",
        "titles": ["Pentest findings (unpatched)", "Security advisory — embargoed", "Bug bounty triage: critical",
                   "Red team report", "Vulnerability: auth bypass in {svc}", "Exploit chain write-up"],
        "sentences": [
            "An unauthenticated attacker can read any tenant's invoices through {svc}.",
            "The fix is not deployed yet; do not discuss outside the security team.",
            "Proof of concept: send a crafted token with alg set to none.",
            "Internal host {host} exposes an admin panel without authentication.",
            "Severity: critical, CVSS 9.{n}.",
            "The researcher agreed to an embargo until {date}.",
            "Lateral movement was possible from the build server to production.",
            "Default credentials are still active on {n} appliances.",
            "We recommend rotating all signing keys after the patch.",
            "Detection rules for this exploit are not in place.",
            "The vulnerable endpoint handles {big} requests a day.",
            "Customer data for {n} accounts could be exfiltrated.",
        ],
    },
    {
        "name": "signed_contract", "tier": "PROPRIETARY", "banner": B, "layout": "prose",
        "titles": ["Executed order form — {co2}", "Signed master agreement ({co2})", "Amendment No. {n} (executed)",
                   "Countersigned SOW", "Final agreement and pricing schedule", "Executed data processing agreement"],
        "sentences": [
            "Annual fees: {money}, invoiced quarterly in advance.",
            "Signed for {co2} by {person}, General Counsel, on {date}.",
            "Customer receives a {pct} discount for a three-year commitment.",
            "Liability is capped at {money} in aggregate.",
            "Bank details for payment: account {acct}, routing {n}0{n}.",
            "This executed copy supersedes all prior drafts.",
            "Termination for convenience is waived for {co2}.",
            "Service credits up to {pct} of monthly fees apply.",
            "Pricing in Schedule B is confidential to the parties.",
            "Countersigned by {person} for {co}.",
            "Renewal uplift is capped at {pct} per year.",
            "Notices to {co2} go to {email}.",
        ],
    },
]
