"""The five Data API entities, declared once (docs/data-api.md, "Entities").

Every layer reads this module: the client (paths, cursor), the store (typed raw columns), the dbt
sources (generated from it, or held equal by a test) and the simulator (what to generate and serve).
Vocabularies list the values seen so far; they describe, they never reject (invariant 6 in
docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FieldType = Literal["string", "timestamp", "boolean", "json"]

PRIMARY_KEY = "id"
CURSOR = "last_updated_time"
RETENTION_DAYS = 30
SYSTEM_EVENTS_SINCE = "2026-04-01T00:00:00Z"


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    nullable: bool
    doc: str
    vocabulary: tuple[str, ...] = ()

    @property
    def is_json(self) -> bool:
        return self.type == "json"


@dataclass(frozen=True)
class Entity:
    path: str  # URL segment: "plugin-calls"
    table: str  # SQL-friendly name: "plugin_calls"
    scope: str  # the scope's label in Moveworks Setup
    doc: str
    fields: tuple[Field, ...]
    parents: dict[str, str] = field(default_factory=dict)  # foreign key column -> parent entity path

    @property
    def key(self) -> str:
        return PRIMARY_KEY

    @property
    def cursor(self) -> str:
        return CURSOR

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.path} has no field {name!r}")


def _s(name: str, nullable: bool, doc: str, vocab: tuple[str, ...] = ()) -> Field:
    return Field(name, "string", nullable, doc, vocab)


def _t(name: str, nullable: bool, doc: str) -> Field:
    return Field(name, "timestamp", nullable, doc)


def _b(name: str, doc: str) -> Field:
    return Field(name, "boolean", False, doc)


def _j(name: str, nullable: bool, doc: str) -> Field:
    return Field(name, "json", nullable, doc)


_ID = _s("id", False, "Immutable record id (string; not a UUID despite the OpenAPI).")
_USER = _s("user_id", False, "users.id of the end user (also on bot rows).")
_CONV = _s("conversation_id", False, "Parent conversation id.")
_CREATED = _t("created_time", False, "When the record happened.")
_UPDATED = _t("last_updated_time", False, "When the row was (re)written in the export; the sync cursor.")

DOMAINS = ("IT", "HR", "OTHER", "TRAVEL_AND_EXPENSE", "LEGAL", "PAYROLL", "FACILITY", "FINANCE", "UNKNOWN")
ROUTES = ("DM", "Notification", "Channel", "Ticket")
CONVERSATION_TYPES = (
    "CONVERSATION_TYPE_APPROVAL_REQUEST_NOTIFICATION",
    "CONVERSATION_TYPE_APPROVAL_UPDATE_NOTIFICATION",
    "CONVERSATION_TYPE_COMMS_NOTIFICATION",
    "CONVERSATION_TYPE_AMBIENT_AGENT_NOTIFICATION",
    "CONVERSATION_TYPE_EVENTS_NOTIFICATION",
    "CONVERSATION_TYPE_TICKET_UPDATE_NOTIFICATION",
    "CONVERSATION_TYPE_TICKET_WAITING_NOTIFICATION",
    "CONVERSATION_TYPE_TICKET_WATCHER_NOTIFICATION",
    "CONVERSATION_TYPE_TICKET_NUDGE_NOTIFICATION",
    "CONVERSATION_TYPE_EXPIRED_PASSWORD_NOTIFICATION",
    "CONVERSATION_TYPE_EXPIRING_PASSWORD_NOTIFICATION",
    "CONVERSATION_TYPE_LOCKED_ACCOUNT_NOTIFICATION",
    "CONVERSATION_TYPE_CSAT_NOTIFICATION",
    "CONVERSATION_TYPE_TICKET_INTERCEPTION",
    "CONVERSATION_TYPE_CHANNEL_INTERCEPTION",
)
# Keys each conversation type puts in `detail` (docs/data-api.md, conversations).
CONVERSATION_DETAIL_KEYS: dict[str, tuple[str, ...]] = {
    "CONVERSATION_TYPE_APPROVAL_REQUEST_NOTIFICATION": ("type", "source", "domain"),
    "CONVERSATION_TYPE_APPROVAL_UPDATE_NOTIFICATION": ("type", "source", "domain"),
    "CONVERSATION_TYPE_COMMS_NOTIFICATION": ("campaign_id", "campaign_name"),
    "CONVERSATION_TYPE_AMBIENT_AGENT_NOTIFICATION": ("usecase_id", "usecase_name"),
    "CONVERSATION_TYPE_EVENTS_NOTIFICATION": ("usecase_id", "usecase_name"),
    "CONVERSATION_TYPE_TICKET_UPDATE_NOTIFICATION": ("ticket_id",),
    "CONVERSATION_TYPE_TICKET_WAITING_NOTIFICATION": ("ticket_id",),
    "CONVERSATION_TYPE_TICKET_WATCHER_NOTIFICATION": ("ticket_id",),
    "CONVERSATION_TYPE_TICKET_NUDGE_NOTIFICATION": ("ticket_id",),
    "CONVERSATION_TYPE_EXPIRED_PASSWORD_NOTIFICATION": (),
    "CONVERSATION_TYPE_EXPIRING_PASSWORD_NOTIFICATION": (),
    "CONVERSATION_TYPE_LOCKED_ACCOUNT_NOTIFICATION": (),
    "CONVERSATION_TYPE_CSAT_NOTIFICATION": (),
    "CONVERSATION_TYPE_TICKET_INTERCEPTION": ("ticket_id", "content"),
    "CONVERSATION_TYPE_CHANNEL_INTERCEPTION": ("channel_id", "channel_name", "content"),
}
# Every key the conversation `detail` object may carry (flattened to columns in staging).
CONVERSATION_DETAIL_FIELDS = (
    "type", "source", "domain", "usecase_id", "usecase_name", "ticket_id",
    "campaign_id", "campaign_name", "channel_id", "channel_name", "content",
)  # fmt: skip
PLATFORMS = ("slack", "msteams", "movewebchat", "web")
ACTORS = ("user", "bot")
INTERACTION_TYPES = (
    "INTERACTION_TYPE_FREE_TEXT",
    "INTERACTION_TYPE_BOT_MESSAGE",
    "INTERACTION_TYPE_BUTTON_CLICK",
    "INTERACTION_TYPE_LINK_CLICK",
    "INTERACTION_TYPE_UIFORM_SUBMISSION",
    "INTERACTION_TYPE_CONTENT_UPLOAD",
    "INTERACTION_TYPE_UTTERANCE",  # legacy name in Moveworks' SQL comments
)
INTERACTION_LABELS = ("file_ticket", "handoff", "mw_form", "feedback")
# Keys an interaction's `detail` may carry (flattened to columns in staging).
INTERACTION_DETAIL_FIELDS = ("content", "domain", "entity", "type", "detail", "resource_id", "file_types")
RESOURCE_TYPES = (
    "RESOURCE_TYPE_KNOWLEDGE",
    "RESOURCE_TYPE_FILE",
    "RESOURCE_TYPE_INTERNAL_KNOWLEDGE",
    "RESOURCE_TYPE_PERSON",
    "RESOURCE_TYPE_RECORD",
    "RESOURCE_TYPE_FORM",
    "RESOURCE_TYPE_APPROVAL",
    "RESOURCE_TYPE_SOFTWARE",
    "RESOURCE_TYPE_GROUP",
    "RESOURCE_TYPE_TICKET",
    "RESOURCE_TYPE_UNSPECIFIED",
    "RESOURCE_TYPE_UPLOADED_CONTENT",
    "RESOURCE_TYPE_MESSAGE",
    "RESOURCE_TYPE_IDENTITY_SYSTEM",
    "RESOURCE_TYPE_INTERNAL_LINK",  # interactions only
)
# Keys a plugin resource's `detail` may carry (flattened to columns in staging).
RESOURCE_DETAIL_FIELDS = (
    "domain",
    "external_resource_id",
    "name",
    "snippet",
    "source",
    "type",
    "url",
    "ticket_type",
)
# Keys present (possibly null) in `detail` per resource type; other types carry `detail: null`
# (docs/data-api.md, plugin-resources).
RESOURCE_DETAIL_KEYS: dict[str, tuple[str, ...]] = {
    "RESOURCE_TYPE_KNOWLEDGE": ("domain", "external_resource_id", "name", "snippet", "url"),
    "RESOURCE_TYPE_FILE": ("name", "snippet", "url"),
    "RESOURCE_TYPE_FORM": ("domain", "external_resource_id", "name"),
    "RESOURCE_TYPE_APPROVAL": ("domain", "source", "type"),
    "RESOURCE_TYPE_TICKET": ("domain", "source", "ticket_type", "type", "url"),
}
LANGUAGES = ("EN_US", "ES_ES", "FR_CA")
EXTERNAL_ID_SOURCES = (
    "GSUITE", "WEBEX", "UNKNOWN_SYSTEM", "MOVEWEBCHAT", "SNOW", "JIRA_SERVICE_DESK", "SLACK", "OKTA", "MS_GRAPH",
)  # fmt: skip
# Native plugin display names seen in samples and docs; custom plugins are snake_case identifiers.
NATIVE_PLUGINS = (
    "Enterprise Search", "Forms", "Update Approval Record", "Grant Software Access", "Smart Handoff",
    "Create Ticket", "Clear Context", "Start Live Agent Chat", "Knowledge Base",
)  # fmt: skip

CONVERSATIONS = Entity(
    path="conversations",
    table="conversations",
    scope="Conversations",
    doc="One row per conversation: a grouping of interactions sharing context.",
    fields=(
        _ID,
        _USER,
        _CREATED,
        _UPDATED,
        _s("primary_domain", True, "Main domain chosen by an LLM over the free-text turns.", DOMAINS),
        _s("route", False, "How the conversation began.", ROUTES),
        _s("type", True, "System-event type (since 2026-04); null for user-initiated.", CONVERSATION_TYPES),
        _j("detail", True, "Type-specific metadata of system-event conversations (since 2026-04)."),
    ),
    parents={"user_id": "users"},
)

INTERACTIONS = Entity(
    path="interactions",
    table="interactions",
    scope="Interactions",
    doc="Every user input and every assistant response.",
    fields=(
        _ID,
        _CONV,
        _USER,
        _s("actor", False, "user or bot.", ACTORS),
        _s("platform", False, "Chat surface.", PLATFORMS),
        _s("type", False, "Interaction type.", INTERACTION_TYPES),
        _s(
            "label",
            True,
            "Label of UI-form submissions (file_ticket, handoff, mw_form, feedback).",
            INTERACTION_LABELS,
        ),
        _s("parent_interaction_id", True, "Bot rows: the user row answered; user actions: the bot message."),
        _j(
            "detail",
            False,
            "Type-dependent metadata: content, domain, entity, type, detail, resource_id, file_types.",
        ),
        _CREATED,
        _UPDATED,
    ),
    parents={"conversation_id": "conversations", "user_id": "users"},
)

PLUGIN_CALLS = Entity(
    path="plugin-calls",
    table="plugin_calls",
    scope="Plugin Calls",
    doc="One row per plugin the assistant invoked for an interaction.",
    fields=(
        _ID,
        _s("interaction_id", False, "The (user) interaction that triggered the call."),
        _CONV,
        _USER,
        _s("plugin_name", False, "Display name (native) or configuration name (custom).", NATIVE_PLUGINS),
        _b("served", "Plugin output was shown to the user."),
        _b("used", "Plugin was used (action plugins: workflow completed). used implies served."),
        _t("plugin_update_time", False, "Last state change of the call; may be hours later (approvals)."),
        _CREATED,
        _UPDATED,
    ),
    parents={"interaction_id": "interactions", "conversation_id": "conversations", "user_id": "users"},
)

PLUGIN_RESOURCES = Entity(
    path="plugin-resources",
    table="plugin_resources",
    scope="Plugin Resources",
    doc="One row per resource (article, file, form, ticket, person...) a plugin used or looked at.",
    fields=(
        _ID,
        _s("resource_id", False, "The resource's id inside Moveworks."),
        _s("type", False, "Resource type.", RESOURCE_TYPES),
        _s("plugin_call_id", True, "Plugin call that used it; null mainly for uncited KNOWLEDGE/FILE rows."),
        _s("interaction_id", False, "The (user) interaction."),
        _USER,
        _CONV,
        _j(
            "detail",
            True,
            "Type-dependent metadata: domain, external_resource_id, name, snippet, source, type, url.",
        ),
        _b("cited", "Resource was cited in the assistant's answer."),
        _CREATED,
        _UPDATED,
    ),
    parents={
        "plugin_call_id": "plugin-calls",
        "interaction_id": "interactions",
        "conversation_id": "conversations",
        "user_id": "users",
    },
)

USERS = Entity(
    path="users",
    table="users",
    scope="Users",
    doc="The roster of users ingested into Moveworks (not only active users).",
    fields=(
        _s("id", False, "Moveworks user id (decimal digits, up to 20)."),
        _s("email_addr", True, "E-mail as ingested from the customer's systems."),
        _s("first_name", True, "First name."),
        _s("last_name", True, "Last name."),
        _b("access_to_bot", "Whether the bot-access rule grants the user the assistant."),
        _s("user_preferred_language", True, "Language, e.g. EN_US.", LANGUAGES),
        _t("first_interaction_time", True, "First ever interaction."),
        _t("latest_interaction_time", True, "Most recent interaction."),
        _j("external_ids", True, "Identities in connected systems: [{connector_name, external_id, source}]."),
        _UPDATED,
    ),
)

ENTITIES: tuple[Entity, ...] = (CONVERSATIONS, INTERACTIONS, PLUGIN_CALLS, PLUGIN_RESOURCES, USERS)
BY_PATH: dict[str, Entity] = {e.path: e for e in ENTITIES}
BY_TABLE: dict[str, Entity] = {e.table: e for e in ENTITIES}


def entity(name: str) -> Entity:
    """Look an entity up by path (`plugin-calls`) or table name (`plugin_calls`)."""
    found = BY_PATH.get(name) or BY_TABLE.get(name) or BY_TABLE.get(name.replace("-", "_"))
    if found is None:
        known = ", ".join(e.path for e in ENTITIES)
        raise KeyError(f"unknown entity {name!r}; known: {known}")
    return found
