"""What the simulated company talks about: topics, utterances per language, knowledge-article titles and
sources, departments and their rollout, office locations and holidays. Synthetic text only.

Lists are ordered by popularity: the generator weights the k-th entry by 1/k^s (Zipf-like).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

# domain -> topics, most asked first (None: the NLU found no topic)
TOPICS: dict[str, tuple[str | None, ...]] = {
    "IT": ("vpn", "password reset", "laptop", "mfa", "software access", "wifi", "email", "printer"),
    "HR": ("pto", "benefits", "parental leave", "onboarding"),
    "TRAVEL_AND_EXPENSE": ("expense report", "travel booking", "corporate card"),
    "FACILITY": ("badge", "desk booking", "parking"),
    "FINANCE": ("invoice", "purchase order"),
    "PAYROLL": ("payslip", "tax form"),
    "LEGAL": ("nda", "contract review"),
    "OTHER": ("greeting", "lunch menu"),
    "UNKNOWN": (None,),
}

# topic -> (English phrasings, Spanish, French); the generator adds light variation (greeting, "?", "pls")
UTTERANCES: dict[str | None, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "vpn": (("my vpn keeps disconnecting", "how do I connect to the VPN from home",
             "GlobalProtect says the portal is unreachable", "vpn not working on my mac"),
            ("no puedo conectarme a la VPN", "la VPN se desconecta cada rato"),
            ("je n'arrive pas à me connecter au VPN", "le VPN coupe sans arrêt")),
    "password reset": (("reset my password", "I forgot my password", "my account is locked out",
                        "how often do I have to change my password"),
                       ("olvidé mi contraseña", "restablecer contraseña"),
                       ("j'ai oublié mon mot de passe", "réinitialiser mon mot de passe")),
    "laptop": (("my laptop is really slow", "request a new laptop", "laptop screen flickering",
                "when is my laptop refresh due"),
               ("mi portátil va muy lento", "necesito un portátil nuevo"),
               ("mon ordinateur portable est très lent", "demander un nouvel ordinateur")),
    "mfa": (("new phone, how do I move my authenticator", "MFA push not arriving", "set up Okta Verify"),
            ("no me llega la notificación de MFA",), ("je ne reçois pas la notification MFA",)),
    "software access": (("I need access to Figma", "install Tableau on my laptop", "request a Jira license",
                         "how do I get Salesforce access"),
                        ("necesito acceso a Tableau",), ("j'ai besoin d'un accès à Jira",)),
    "wifi": (("can't connect to office wifi", "what is the guest wifi password", "wifi very slow on floor 3"),
             ("no puedo conectarme al wifi de la oficina",), ("je n'arrive pas à me connecter au wifi",)),
    "email": (("outlook keeps asking for my password", "set up an out of office reply", "shared mailbox access"),
              ("configurar respuesta automática",), ("configurer une réponse d'absence",)),
    "printer": (("printer on 4th floor is jammed", "how do I add a printer", "print queue stuck"),
                ("la impresora no funciona",), ("l'imprimante ne marche pas",)),
    "pto": (("how much pto do I have left", "request vacation next friday", "what is the pto policy",
             "cancel my leave request"),
            ("cuántos días de vacaciones me quedan", "solicitar vacaciones"),
            ("combien de jours de congé me reste-t-il", "poser des congés")),
    "benefits": (("when is open enrollment", "change my health plan", "does our plan cover dental",
                  "add my spouse to my benefits"),
                 ("cómo cambio mi seguro médico",), ("comment changer ma mutuelle",)),
    "parental leave": (("how long is parental leave", "apply for maternity leave", "paternity leave policy"),
                       ("baja por paternidad",), ("congé parental durée",)),
    "onboarding": (("first day checklist", "who is my onboarding buddy", "new hire training schedule"),
                   ("lista de tareas para el primer día",), ("programme d'intégration",)),
    "expense report": (("how do I submit an expense report", "expense report rejected", "per diem rates",
                        "receipt lost, what do I do"),
                       ("cómo presento un informe de gastos",), ("comment soumettre une note de frais",)),
    "travel booking": (("book a flight to London", "travel policy for hotels", "who approves my trip"),
                       ("reservar un vuelo",), ("réserver un vol",)),
    "corporate card": (("apply for a corporate card", "my corporate card was declined"),
                       ("solicitar tarjeta corporativa",), ("demander une carte d'entreprise",)),
    "badge": (("I lost my badge", "badge not working at the front door", "request a visitor badge"),
              ("perdí mi tarjeta de acceso",), ("j'ai perdu mon badge",)),
    "desk booking": (("book a desk for tomorrow", "how do I reserve a meeting room"),
                     ("reservar un escritorio",), ("réserver un bureau",)),
    "parking": (("parking permit application", "is there EV charging in the garage"),
                ("permiso de aparcamiento",), ("demande de place de parking",)),
    "invoice": (("status of vendor invoice", "submit an invoice for payment"),
                ("estado de una factura",), ("statut d'une facture",)),
    "purchase order": (("create a purchase order", "PO approval stuck"),
                       ("crear una orden de compra",), ("créer un bon de commande",)),
    "payslip": (("where can I find my payslip", "my pay is wrong this month", "change my bank details"),
                ("dónde está mi nómina",), ("où trouver ma fiche de paie",)),
    "tax form": (("download my W-2", "update my tax withholding"),
                 ("descargar certificado de retenciones",), ("télécharger mon attestation fiscale",)),
    "nda": (("I need an NDA for a vendor", "mutual NDA template"),
            ("plantilla de acuerdo de confidencialidad",), ("modèle d'accord de confidentialité",)),
    "contract review": (("legal review of a contract", "how long does contract review take"),
                        ("revisión legal de un contrato",), ("revue juridique d'un contrat",)),
    "greeting": (("hi", "hello", "thanks!", "good morning"), ("hola", "gracias"), ("bonjour", "merci")),
    "lunch menu": (("what's for lunch today", "is the cafeteria open"),
                   ("menú del comedor",), ("menu de la cantine",)),
    None: (("can you help me", "I have a problem", "something is broken", "who do I ask about this"),
           ("necesito ayuda",), ("j'ai besoin d'aide",)),
}  # fmt: skip
UTTERANCE_PREFIX = ("", "", "", "hi, ", "hey ", "quick question: ", "hello - ")
UTTERANCE_SUFFIX = ("", "", "", "?", " please", " pls", " asap", "!")
BOT_REPLIES = (
    "Here is what I found.",
    "I found a few articles that may help.",
    "This article should answer your question.",
    "I can help with that. Here are the steps.",
    "Let me look that up for you.",
)

# topic -> article titles (the catalogue adds variants until it has its size)
ARTICLE_TITLES: dict[str, tuple[str, ...]] = {
    "vpn": ("How to connect to the VPN", "VPN troubleshooting: connection drops", "Installing the GlobalProtect client"),
    "password reset": ("Reset your network password", "Unlock your account", "Password policy"),
    "laptop": ("Laptop refresh programme", "Request new hardware", "Speed up a slow laptop"),
    "mfa": ("Set up multi-factor authentication", "Move MFA to a new phone"),
    "software access": ("Request software access", "Approved software catalogue", "Software licence FAQ"),
    "wifi": ("Connect to office Wi-Fi", "Guest Wi-Fi access"),
    "email": ("Set up an out-of-office reply", "Shared mailbox access", "Outlook keeps asking for a password"),
    "printer": ("Add a network printer", "Printer troubleshooting"),
    "pto": ("Paid time off policy", "Request time off in Workday", "Cancel or change a leave request"),
    "benefits": ("Benefits overview 2026", "Open enrollment guide", "Dental and vision coverage"),
    "parental leave": ("Parental leave policy", "Returning from leave"),
    "onboarding": ("New hire first-week checklist", "Onboarding buddy programme"),
    "expense report": ("Submit an expense report", "Travel and expense policy", "Per diem rates"),
    "travel booking": ("Book business travel", "Hotel and flight policy"),
    "corporate card": ("Corporate card application", "Corporate card declined"),
    "badge": ("Replace a lost badge", "Visitor badges"),
    "desk booking": ("Book a desk or meeting room",),
    "parking": ("Parking permits and EV charging",),
    "invoice": ("Vendor invoice status", "Submit an invoice for payment"),
    "purchase order": ("Create a purchase order", "Purchase order approvals"),
    "payslip": ("Find your payslip", "Update bank details for payroll"),
    "tax form": ("Download tax forms", "Change tax withholding"),
    "nda": ("NDA templates and requests",),
    "contract review": ("Legal contract review process",),
    "greeting": ("Getting started with the assistant",),
    "lunch menu": ("Cafeteria menu and hours",),
}  # fmt: skip
TITLE_VARIANTS = ("", " (Mac)", " (Windows)", " - EMEA", " - US", " - India", " (archived)", " v2", " - FAQ")

# knowledge source -> (resource type, share of articles per domain group); SharePoint holds files
SOURCES = {
    "ServiceNow KB": "RESOURCE_TYPE_KNOWLEDGE",
    "Confluence": "RESOURCE_TYPE_KNOWLEDGE",
    "Salesforce Knowledge": "RESOURCE_TYPE_KNOWLEDGE",
    "SharePoint": "RESOURCE_TYPE_FILE",
    "Google Drive": "RESOURCE_TYPE_FILE",
}
SOURCE_MIX: dict[str, dict[str, float]] = {
    "IT": {"ServiceNow KB": 50, "Confluence": 30, "SharePoint": 15, "Google Drive": 5},
    "HR": {"SharePoint": 45, "ServiceNow KB": 25, "Salesforce Knowledge": 15, "Google Drive": 15},
    "*": {"SharePoint": 40, "Confluence": 30, "ServiceNow KB": 15, "Google Drive": 15},
}

# department -> (headcount weight, rollout wave 0..2, share of its people who ever adopt the assistant)
DEPARTMENTS: dict[str, tuple[float, int, float]] = {
    "Engineering": (30, 0, 0.9), "Support": (12, 0, 0.95), "Operations": (10, 1, 0.8),
    "Finance": (8, 1, 0.75), "HR": (6, 1, 0.85), "Sales": (20, 2, 0.6), "Marketing": (8, 2, 0.7),
    "Legal": (6, 2, 0.5),
}  # fmt: skip
# office -> (country, IANA time zone, headcount weight)
LOCATIONS: dict[str, tuple[str, str, float]] = {
    "San Francisco": ("US", "America/Los_Angeles", 30), "New York": ("US", "America/New_York", 20),
    "Toronto": ("CA", "America/Toronto", 10), "London": ("GB", "Europe/London", 15),
    "Berlin": ("DE", "Europe/Berlin", 10), "Bangalore": ("IN", "Asia/Kolkata", 15),
}  # fmt: skip
# local hour -> weight of a question being asked then (business hours, a lunch dip)
HOUR_WEIGHTS = (
    0.2,
    0.1,
    0.1,
    0.1,
    0.2,
    0.3,
    0.6,
    1.5,
    4,
    8,
    10,
    9,
    6,
    8,
    9,
    8,
    6,
    3,
    1.5,
    0.8,
    0.6,
    0.5,
    0.4,
    0.3,
)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """n-th (1-based; -1 = last) given weekday (Mon = 0) of a month."""
    if n > 0:
        d = date(year, month, 1)
        d += timedelta(days=(weekday - d.weekday()) % 7)
        return d + timedelta(weeks=n - 1)
    d = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() - weekday) % 7)


@lru_cache(maxsize=64)
def holidays(country: str, year: int) -> frozenset[date]:
    """Public holidays of an office's country (the main fixed and weekday-rule ones; no lunar dates)."""
    fixed = {
        "US": ((1, 1), (7, 4), (12, 25)),
        "CA": ((1, 1), (7, 1), (12, 25), (12, 26)),
        "GB": ((1, 1), (12, 25), (12, 26)),
        "DE": ((1, 1), (5, 1), (10, 3), (12, 25), (12, 26)),
        "IN": ((1, 26), (8, 15), (10, 2), (12, 25)),
    }.get(country, ())
    out = {date(year, m, d) for m, d in fixed}
    if country == "US":  # Memorial Day, Labor Day, Thanksgiving and the Friday after
        thanks = _nth_weekday(year, 11, 3, 4)
        out |= {_nth_weekday(year, 5, 0, -1), _nth_weekday(year, 9, 0, 1), thanks, thanks + timedelta(days=1)}
    elif country == "CA":  # Labour Day, Thanksgiving
        out |= {_nth_weekday(year, 9, 0, 1), _nth_weekday(year, 10, 0, 2)}
    elif country == "GB":  # early May, spring and summer bank holidays
        out |= {_nth_weekday(year, 5, 0, 1), _nth_weekday(year, 5, 0, -1), _nth_weekday(year, 8, 0, -1)}
    return frozenset(out)
