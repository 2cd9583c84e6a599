"""The fixed text the seeded world draws its names from: organizations, MCP sources with their
tools and workflows, criteria, intents, clients, errors and the words of every free text.

Changing anything here changes every seeded world, so the determinism tests notice.
"""

from __future__ import annotations

import random
from typing import Any

KIB = 1024

ORGANIZATIONS = (
    ("Acme Robotics", "acme-robotics"),
    ("Northwind Labs", "northwind-labs"),
    ("Globex Platform", "globex-platform"),
)
TESTER_MODELS = ("claude-sonnet-4-5", "gpt-5-mini", "gemini-2.5-pro", "claude-haiku-4-5")
JUDGE_MODELS = ("claude-opus-4-1", "gpt-5")
CRONS = ("*/15 * * * *", "*/30 * * * *", "0 * * * *", "0 9 * * *")
TIMEZONES = ("UTC", "Europe/Berlin", "America/New_York")

SERVERS: tuple[dict[str, Any], ...] = (
    {
        "name": "Production GitHub MCP",
        "transport_type": "streamable_http",
        "target_kind": "mcp",
        "base_url": "https://github-mcp.example.com/mcp",
        "categories": ["dev-tools"],
        "tools": (
            ("search_issues", "Search issues by text, label or state"),
            ("get_issue", "Fetch one issue with its comments"),
            ("create_issue", "Open a new issue"),
            ("list_pull_requests", "List pull requests of a repository"),
            ("create_pull_request", "Open a pull request from a branch"),
            ("get_file_contents", "Read a file at a ref"),
            ("search_code", "Search code across repositories"),
            ("list_commits", "List commits of a branch"),
        ),
        "objects": ("issues", "pull requests", "commits", "releases", "code owners", "branches"),
        "workflows": (
            ("Search returns recent issues", "Searching for open bugs returns this week's issues."),
            ("Triage new bug reports", "New bug reports get a label and an owner."),
            ("Open a pull request from a branch", "A branch becomes a pull request with a summary."),
            ("Summarize last week's commits", "Commits of the last week are summarized per area."),
        ),
    },
    {
        "name": "Billing Ledger MCP",
        "transport_type": "sse",
        "target_kind": "mcp",
        "base_url": "https://billing-mcp.example.com/sse",
        "categories": ["finance", "billing"],
        "tools": (
            ("search_customers", "Find customers by name, email or id"),
            ("get_invoice", "Fetch one invoice with its lines"),
            ("list_invoices", "List invoices of a customer"),
            ("refund_payment", "Refund a payment in full or in part"),
            ("get_subscription", "Fetch a subscription and its plan"),
            ("list_transactions", "List ledger transactions in a period"),
        ),
        "objects": ("invoices", "refunds", "subscriptions", "payouts", "tax ids"),
        "workflows": (
            ("Find an invoice by customer", "The agent finds the latest invoice of a named customer."),
            ("Refund a duplicate charge", "A duplicate charge is found and refunded once."),
            ("Explain a subscription change", "A plan change is explained with prorated amounts."),
            ("Monthly revenue lookup", "Revenue of last month is reported from the ledger."),
        ),
    },
    {
        "name": "Support Desk CLI",
        "transport_type": "stdio_hosted",
        "target_kind": "cli",
        "base_url": None,
        "categories": ["support"],
        "tools": (
            ("search_tickets", "Search tickets by text or requester"),
            ("get_ticket", "Fetch one ticket with its thread"),
            ("reply_ticket", "Post a reply on a ticket"),
            ("escalate_ticket", "Escalate a ticket to on-call"),
            ("list_macros", "List reply macros"),
            ("search_kb", "Search knowledge-base articles"),
        ),
        "objects": ("tickets", "macros", "kb articles", "escalations", "slas"),
        "workflows": (
            ("Answer a password reset ticket", "A reset request gets the right macro and a reply."),
            ("Escalate an outage report", "An outage report is escalated with the facts on-call needs."),
            ("Find a KB article", "A how-to question is answered with a KB link."),
            ("Close resolved tickets", "Tickets confirmed solved are closed with a note."),
        ),
    },
)
CRITERIA = (
    "Calls a search tool before answering",
    "The answer cites the record id it relied on",
    "Does not invent data the tools did not return",
    "Finishes within ten tool calls",
    "Asks for confirmation before any write",
    "The final answer is under 200 words",
    "Handles an empty result without retry loops",
    "Uses the customer's own wording in the summary",
)
VERBS = ("find", "summarize", "update", "export", "compare", "close", "bulk edit", "schedule")
QUALIFIERS = (
    "for the acme account",
    "from last week",
    "with label p1",
    "for customer 4411",
    "created today",
    "in the eu region",
    "older than 30 days",
    "assigned to me",
    "that mention timeouts",
    "for the q3 review",
)
GAP_EXTRAS = ("as csv", "by date range", "across all workspaces", "with custom fields", "in bulk")
CLIENTS = (
    ("claude-desktop", "0.14.2"),
    ("cursor", "1.7.0"),
    ("vscode-copilot", "1.104.0"),
    ("goose", "1.9.0"),
    ("armature-harness", "2.3.1"),
)
FRUSTRATION = ("low", "medium", "high")
# what a newly registered source's probe is taken to have found
PROBED_TOOLS = (
    ("search", "Search records by text"),
    ("get_record", "Fetch one record by id"),
    ("list_records", "List records with filters"),
    ("create_record", "Create a record"),
)
MEETS = {"pass": "meets", "fail": "does not meet", "skipped": "does not show"}
REASONS_MANUAL = (
    "Verify fix for flaky search",
    "Re-run after deploy",
    "Check regression from yesterday",
    "Compare with new tester model",
    "Reproduce customer report",
)
TOOL_ERRORS = (
    "upstream returned 502",
    "tool timed out after 30s",
    "invalid argument: limit must be <= 100",
    "permission denied for resource",
)
WORDS = (
    "agent tool call result search issue invoice ticket customer latency timeout retry page "
    "cursor token model judge criterion verdict span trace session intent topic cluster gap "
    "export import schema record field value error warning status pending running pass fail "
    "partial branch commit release refund payout subscription plan ledger period region label "
    "owner summary answer question request response header body payload limit offset window "
    "metric count rate score sample example query filter sort order newest oldest archive "
    "restore webhook queue worker shard replica index cache miss hit cold warm deploy rollback"
).split()


def text_block(rng: random.Random) -> str:
    """A 96 KiB block of seeded words; tool results are slices of it, so they cost nothing."""
    text = " ".join(rng.choices(WORDS, k=20_000))
    return text[: 96 * KIB]
