"""English UI strings (the fallback for every other language).

Values are Telegram HTML templates for `str.format`; `button.*`, `cmd.*`, `toggle.*`
and `lang.*` are plain text (buttons, the command menu, callback answers).
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # --- /start -------------------------------------------------------------------------
    "start.welcome": (
        "👋 Welcome to <b>Duta</b>.\n\n"
        "I watch the news about Vietnam's foreign relations — people-to-people diplomacy, "
        "friendship associations, foreign NGOs, cooperation between localities, science and "
        "technology — and send you what matches the topics you follow: a few lines, the tags "
        "and the link.\n\n"
        "<b>Quick picks</b>\n"
        "• /subscribe theme/people-to-people — people-to-people diplomacy\n"
        "• /subscribe partner/jp — everything about Japan\n"
        "• /subscribe theme/ngo daily — foreign NGOs, as a daily digest\n\n"
        "Tap a button below, browse every topic with /topics, or see all commands with /help."
    ),
    "start.group": "In a group, only its administrators can change subscriptions and settings.",
    # --- /help --------------------------------------------------------------------------
    "help.intro": "<b>Duta</b> — news about Vietnam's foreign relations.\n\n<b>Commands</b>",
    "help.line": "{syntax} — {description}",
    "help.topics": (
        "Topics can be named by id (<code>partner/jp</code>), by name or by alias in "
        "English, Indonesian or Vietnamese (<code>Japan</code>, <code>Jepang</code>, "
        "<code>Nhật Bản</code>)."
    ),
    "syntax.subscribe": "/subscribe topic… [instant|daily|weekly]",
    "syntax.unsubscribe": "/unsubscribe [topic…]",
    "syntax.digest": "/digest [period] [topic…]",
    "syntax.why": "/why link",
    "syntax.settings": "/settings [name value]",
    # --- command menu (set_my_commands; plain text, at most 256 characters) --------------
    "cmd.start": "What Duta does, with quick picks",
    "cmd.help": "Every command in one list",
    "cmd.topics": "Browse topics and follow them with a tap",
    "cmd.subscribe": "Follow topics: instant alerts or a digest",
    "cmd.unsubscribe": "Stop following topics (all without a topic)",
    "cmd.list": "The topics this chat follows",
    "cmd.digest": "A digest right now, e.g. /digest 3d partner/jp",
    "cmd.why": "Why an article matched: its tags and the words behind them",
    "cmd.settings": "Language, time zone, digest time, quiet hours",
    "cmd.sources": "The watched sources and which are failing",
    "cmd.status": "Queue and source health (Duta administrators)",
    # --- usage lines for commands with arguments ----------------------------------------
    "usage.subscribe": (
        "Usage: /subscribe topic… [instant|daily|weekly]\n"
        "For example: <code>/subscribe partner/jp</code> or "
        "<code>/subscribe Japan people-to-people daily</code>"
    ),
    "usage.unsubscribe": (
        "Usage: /unsubscribe topic… — or just /unsubscribe to stop everything in this chat.\n"
        "For example: <code>/unsubscribe partner/jp</code>"
    ),
    "usage.digest": (
        "Usage: /digest [period] [topic…] — the period is hours, days or weeks, "
        "up to 30 days.\n"
        "For example: <code>/digest</code>, <code>/digest 3d partner/jp</code>, "
        "<code>/digest 1w theme/ngo</code>"
    ),
    "usage.why": (
        "Usage: /why link — send the address of an article Duta has seen.\n"
        "For example: <code>/why https://thoidai.com.vn/…</code>"
    ),
    "usage.settings": (
        "Usage: /settings name value\n"
        "<code>/settings lang vi</code> · <code>/settings tz Asia/Jakarta</code> · "
        "<code>/settings digest 07:30</code> · <code>/settings weekly mon</code> · "
        "<code>/settings quiet 22:00-07:00</code> · <code>/settings quiet off</code>"
    ),
    # --- delivery modes -----------------------------------------------------------------
    "mode.instant": "instant alerts",
    "mode.daily": "daily digest",
    "mode.weekly": "weekly digest",
    # --- /subscribe and /unsubscribe ----------------------------------------------------
    "subscribe.done": "✅ Subscribed to {topics} — {mode}.",
    "subscribe.already": "You already follow {topics} — {mode}.",
    "subscribe.mode_changed": "🔁 {topics}: now {mode}.",
    "subscribe.thread": "Alerts for these topics will arrive in this forum topic.",
    "unsubscribe.done": "🔕 Unsubscribed from {topics}.",
    "unsubscribe.all": "🔕 Unsubscribed from all topics ({count}).",
    "unsubscribe.nothing": "There was nothing to unsubscribe from.",
    # --- /list --------------------------------------------------------------------------
    "list.empty": (
        "This chat does not follow any topic yet. Browse them with /topics or try "
        "<code>/subscribe partner/jp</code>."
    ),
    "list.title": "<b>Topics this chat follows</b>",
    "list.thread": "<i>In forum topic {thread}</i>",
    "list.item": "• {label} (<code>{topic}</code>) — {mode}",
    "list.footer": "Stop one with <code>/unsubscribe topic</code>, all with /unsubscribe.",
    # --- /digest ------------------------------------------------------------------------
    "digest.title": "Duta digest — {date}",
    "digest.empty": "Nothing new in the last {period}.",
    "digest.empty_topics": "Nothing new about {topics} in the last {period}.",
    # --- /why ---------------------------------------------------------------------------
    "why.not_found": "Duta has not stored an article at {url}.",
    "why.relevant": "✅ About Vietnam's foreign relations (score {score}).",
    "why.not_relevant": "➖ Not about Vietnam's foreign relations (score {score}).",
    "why.untagged": "This article has not been tagged yet.",
    "why.no_tags": "No tag matched this article.",
    "why.tags": "<b>Tags and the words behind them</b>",
    "why.tag": "• {label} (<code>{topic}</code>, {score}): {evidence}",
    # --- /settings ----------------------------------------------------------------------
    "settings.current": (
        "<b>Settings</b>\n"
        "Language: {language}\n"
        "Time zone: {timezone}\n"
        "Digests: {digest_time} (weekly on {weekday})\n"
        "Quiet hours: {quiet}\n\n"
        "<b>To change them</b>\n"
        "<code>/settings lang vi</code> — language: id, en or vi\n"
        "<code>/settings tz Asia/Jakarta</code> — time zone\n"
        "<code>/settings digest 07:30</code> — when digests arrive\n"
        "<code>/settings weekly mon</code> — the day of the weekly digest\n"
        "<code>/settings quiet 22:00-07:00</code> — hold instant alerts at night\n"
        "<code>/settings quiet off</code> — no quiet hours"
    ),
    "settings.quiet_off": "off",
    "settings.quiet_range": "{start}–{end}",
    "settings.lang_done": "🌐 I will speak English in this chat.",
    "settings.tz_done": "🕒 Time zone: {timezone}.",
    "settings.digest_done": "📰 Digests will arrive at {time}.",
    "settings.weekly_done": "📅 Weekly digests will arrive on {weekday}.",
    "settings.quiet_done": ("🌙 Quiet hours: {start}–{end}. Instant alerts wait until they end."),
    "settings.quiet_off_done": "🔔 Quiet hours are off.",
    "weekday.0": "Monday",
    "weekday.1": "Tuesday",
    "weekday.2": "Wednesday",
    "weekday.3": "Thursday",
    "weekday.4": "Friday",
    "weekday.5": "Saturday",
    "weekday.6": "Sunday",
    "lang.en": "English",
    "lang.id": "Bahasa Indonesia",
    "lang.vi": "Tiếng Việt",
    # --- /sources -----------------------------------------------------------------------
    "sources.title": "<b>Sources</b>: {count} watched, {failing} failing.",
    "sources.item": "• {name} ({language})",
    "sources.all_ok": "✅ Every source is working.",
    "sources.failing": "<b>Failing sources</b>",
    "sources.failing_item": "⚠️ {name} — {error} (since {since}, {count} errors in a row)",
    # --- /status ------------------------------------------------------------------------
    "status.text": (
        "<b>Duta status</b>\n"
        "Outbox: {pending} pending ({held} held), {sent} sent, {failed} failed\n"
        "Sources: {sources} watched, {failing} failing\n"
        "Last cycle: {cycle}"
    ),
    "status.cycle": (
        "{finished} — {new} new articles, {failed} of {sources} sources failed, {elapsed} s"
    ),
    "status.no_cycle": "none yet",
    # --- errors -------------------------------------------------------------------------
    "error.admins_only": "Only this group's administrators can change its subscriptions.",
    "error.admin_chats_only": "/status is for Duta's administrators only.",
    "error.unknown_command": "I don't know that command. See /help for the ones I do.",
    "error.unknown_topic": "I don't know the topic “{word}”. Browse them with /topics.",
    "error.unknown_topic_suggest": "I don't know the topic “{word}”. Did you mean {suggestions}?",
    "error.bad_period": (
        "“{value}” is not a period. Use hours, days or weeks: <code>24h</code>, "
        "<code>3d</code>, <code>1w</code> (at most 30 days)."
    ),
    "error.bad_timezone": (
        "“{value}” is not a time zone. Use a name such as <code>Asia/Jakarta</code> or "
        "<code>Asia/Ho_Chi_Minh</code>."
    ),
    "error.bad_time": "“{value}” is not a time. Use HH:MM, for example <code>07:30</code>.",
    "error.bad_quiet": (
        "Quiet hours look like <code>22:00-07:00</code> (start and end differ), or "
        "<code>off</code>."
    ),
    "error.bad_language": "“{value}” is not a language I speak. Use id, en or vi.",
    "error.bad_weekday": "“{value}” is not a day. Use mon, tue, wed, thu, fri, sat or sun.",
    "error.button_expired": "This button is no longer valid. Open /topics again.",
    "error.internal": "Something went wrong on my side. Please try again in a moment.",
    # --- /topics and its buttons --------------------------------------------------------
    "topics.title": (
        "<b>Topics</b>\nChoose a group, then tap a topic to follow it or stop following it. "
        "✓ marks what this chat follows."
    ),
    "topics.facet": "<b>{facet}</b>\nTap a topic to follow it or stop following it. ✓ = followed.",
    "topics.quick": "<b>Quick picks</b>\nTap to follow or stop following. ✓ = followed.",
    "button.facet": "{facet}",
    "button.topic": "{label}",
    "button.topic_on": "✓ {label}",
    "button.back": "« Back",
    "button.prev": "‹ Previous",
    "button.next": "Next ›",
    "button.all_topics": "All topics »",
    "toggle.on": "✓ Following {topic}",
    "toggle.off": "Stopped following {topic}",
    # --- facet names ---------------------------------------------------------------------
    "facet.theme": "Themes",
    "facet.partner": "Partners",
    "facet.org": "Organisations",
    "facet.event": "Events",
    "facet.place": "Places",
    # --- words inside alerts and digests ---------------------------------------------------
    "render.also_in": "also in: {sites}",
    "render.source": "Source",
    "render.read": "Read on {site}",
    "render.other": "Other",
}
