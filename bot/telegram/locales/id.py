"""Indonesian UI strings (Bahasa Indonesia); same keys and placeholders as `en`."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # --- /start -------------------------------------------------------------------------
    "start.welcome": (
        "👋 Selamat datang di <b>Duta</b>.\n\n"
        "Saya memantau berita tentang hubungan luar negeri Vietnam — diplomasi "
        "antarmasyarakat, asosiasi persahabatan, LSM asing, kerja sama antardaerah, sains dan "
        "teknologi — lalu mengirimkan berita yang cocok dengan topik yang Anda ikuti: "
        "ringkasan singkat, tag, dan tautannya.\n\n"
        "<b>Pilihan cepat</b>\n"
        "• /subscribe theme/people-to-people — diplomasi antarmasyarakat\n"
        "• /subscribe partner/jp — semua berita tentang Jepang\n"
        "• /subscribe theme/ngo daily — LSM asing, sebagai ringkasan harian\n\n"
        "Ketuk tombol di bawah, jelajahi semua topik dengan /topics, atau lihat semua "
        "perintah dengan /help."
    ),
    "start.group": "Di grup, hanya admin grup yang dapat mengubah langganan dan pengaturan.",
    # --- /help --------------------------------------------------------------------------
    "help.intro": "<b>Duta</b> — berita hubungan luar negeri Vietnam.\n\n<b>Perintah</b>",
    "help.line": "{syntax} — {description}",
    "help.topics": (
        "Topik bisa disebut dengan id-nya (<code>partner/jp</code>), nama, atau aliasnya "
        "dalam bahasa Indonesia, Inggris, atau Vietnam (<code>Jepang</code>, "
        "<code>Japan</code>, <code>Nhật Bản</code>)."
    ),
    "syntax.subscribe": "/subscribe topik… [instant|daily|weekly]",
    "syntax.unsubscribe": "/unsubscribe [topik…]",
    "syntax.digest": "/digest [periode] [topik…]",
    "syntax.why": "/why tautan",
    "syntax.settings": "/settings [nama nilai]",
    # --- command menu -------------------------------------------------------------------
    "cmd.start": "Apa yang dilakukan Duta, dengan pilihan cepat",
    "cmd.help": "Daftar semua perintah",
    "cmd.topics": "Jelajahi topik dan ikuti dengan sekali ketuk",
    "cmd.subscribe": "Ikuti topik: notifikasi langsung atau ringkasan",
    "cmd.unsubscribe": "Berhenti mengikuti topik (semua jika tanpa topik)",
    "cmd.list": "Topik yang diikuti obrolan ini",
    "cmd.digest": "Ringkasan sekarang juga, mis. /digest 3d partner/jp",
    "cmd.why": "Mengapa sebuah artikel cocok: tag dan kata pemicunya",
    "cmd.settings": "Bahasa, zona waktu, jam ringkasan, jam tenang",
    "cmd.sources": "Sumber yang dipantau dan yang sedang gagal",
    "cmd.status": "Antrean dan kesehatan sumber (admin Duta)",
    # --- usage lines --------------------------------------------------------------------
    "usage.subscribe": (
        "Cara pakai: /subscribe topik… [instant|daily|weekly]\n"
        "Contoh: <code>/subscribe partner/jp</code> atau "
        "<code>/subscribe Jepang antarmasyarakat harian</code>"
    ),
    "usage.unsubscribe": (
        "Cara pakai: /unsubscribe topik… — atau cukup /unsubscribe untuk menghentikan semua "
        "langganan di obrolan ini.\n"
        "Contoh: <code>/unsubscribe partner/jp</code>"
    ),
    "usage.digest": (
        "Cara pakai: /digest [periode] [topik…] — periode dalam jam, hari, atau minggu, "
        "paling lama 30 hari.\n"
        "Contoh: <code>/digest</code>, <code>/digest 3d partner/jp</code>, "
        "<code>/digest 1w theme/ngo</code>"
    ),
    "usage.why": (
        "Cara pakai: /why tautan — kirim alamat artikel yang pernah dilihat Duta.\n"
        "Contoh: <code>/why https://thoidai.com.vn/…</code>"
    ),
    "usage.settings": (
        "Cara pakai: /settings nama nilai\n"
        "<code>/settings lang id</code> · <code>/settings tz Asia/Jakarta</code> · "
        "<code>/settings digest 07:30</code> · <code>/settings weekly senin</code> · "
        "<code>/settings quiet 22:00-07:00</code> · <code>/settings quiet off</code>"
    ),
    # --- delivery modes -----------------------------------------------------------------
    "mode.instant": "notifikasi langsung",
    "mode.daily": "ringkasan harian",
    "mode.weekly": "ringkasan mingguan",
    # --- /subscribe and /unsubscribe ----------------------------------------------------
    "subscribe.done": "✅ Berlangganan {topics} — {mode}.",
    "subscribe.already": "Anda sudah mengikuti {topics} — {mode}.",
    "subscribe.mode_changed": "🔁 {topics}: sekarang {mode}.",
    "subscribe.thread": "Notifikasi untuk topik ini akan dikirim ke topik forum ini.",
    "unsubscribe.done": "🔕 Berhenti berlangganan {topics}.",
    "unsubscribe.all": "🔕 Berhenti berlangganan semua topik ({count}).",
    "unsubscribe.nothing": "Tidak ada langganan yang perlu dihentikan.",
    # --- /list --------------------------------------------------------------------------
    "list.empty": (
        "Obrolan ini belum mengikuti topik apa pun. Jelajahi dengan /topics atau coba "
        "<code>/subscribe partner/jp</code>."
    ),
    "list.title": "<b>Topik yang diikuti obrolan ini</b>",
    "list.thread": "<i>Di topik forum {thread}</i>",
    "list.item": "• {label} (<code>{topic}</code>) — {mode}",
    "list.footer": (
        "Hentikan satu dengan <code>/unsubscribe topik</code>, semuanya dengan /unsubscribe."
    ),
    # --- /digest ------------------------------------------------------------------------
    "digest.title": "Ringkasan Duta — {date}",
    "digest.empty": "Tidak ada berita baru dalam {period} terakhir.",
    "digest.empty_topics": "Tidak ada berita baru tentang {topics} dalam {period} terakhir.",
    # --- /why ---------------------------------------------------------------------------
    "why.not_found": "Duta belum menyimpan artikel di {url}.",
    "why.relevant": "✅ Tentang hubungan luar negeri Vietnam (skor {score}).",
    "why.not_relevant": "➖ Bukan tentang hubungan luar negeri Vietnam (skor {score}).",
    "why.untagged": "Artikel ini belum diberi tag.",
    "why.no_tags": "Tidak ada tag yang cocok dengan artikel ini.",
    "why.tags": "<b>Tag dan kata pemicunya</b>",
    "why.tag": "• {label} (<code>{topic}</code>, {score}): {evidence}",
    # --- /settings ----------------------------------------------------------------------
    "settings.current": (
        "<b>Pengaturan</b>\n"
        "Bahasa: {language}\n"
        "Zona waktu: {timezone}\n"
        "Ringkasan: pukul {digest_time} (mingguan setiap {weekday})\n"
        "Jam tenang: {quiet}\n\n"
        "<b>Cara mengubahnya</b>\n"
        "<code>/settings lang vi</code> — bahasa: id, en, atau vi\n"
        "<code>/settings tz Asia/Jakarta</code> — zona waktu\n"
        "<code>/settings digest 07:30</code> — jam kiriman ringkasan\n"
        "<code>/settings weekly senin</code> — hari ringkasan mingguan\n"
        "<code>/settings quiet 22:00-07:00</code> — tahan notifikasi langsung di malam hari\n"
        "<code>/settings quiet off</code> — tanpa jam tenang"
    ),
    "settings.quiet_off": "nonaktif",
    "settings.quiet_range": "{start}–{end}",
    "settings.lang_done": "🌐 Saya akan berbahasa Indonesia di obrolan ini.",
    "settings.tz_done": "🕒 Zona waktu: {timezone}.",
    "settings.digest_done": "📰 Ringkasan akan dikirim pukul {time}.",
    "settings.weekly_done": "📅 Ringkasan mingguan akan dikirim setiap {weekday}.",
    "settings.quiet_done": (
        "🌙 Jam tenang: {start}–{end}. Notifikasi langsung ditahan sampai jam tenang berakhir."
    ),
    "settings.quiet_off_done": "🔔 Jam tenang dinonaktifkan.",
    "weekday.0": "Senin",
    "weekday.1": "Selasa",
    "weekday.2": "Rabu",
    "weekday.3": "Kamis",
    "weekday.4": "Jumat",
    "weekday.5": "Sabtu",
    "weekday.6": "Minggu",
    "lang.en": "English",
    "lang.id": "Bahasa Indonesia",
    "lang.vi": "Tiếng Việt",
    # --- /sources -----------------------------------------------------------------------
    "sources.title": "<b>Sumber</b>: {count} dipantau, {failing} gagal.",
    "sources.item": "• {name} ({language})",
    "sources.all_ok": "✅ Semua sumber berjalan normal.",
    "sources.failing": "<b>Sumber yang gagal</b>",
    "sources.failing_item": "⚠️ {name} — {error} (sejak {since}, {count} kali gagal berturut-turut)",
    # --- /status ------------------------------------------------------------------------
    "status.text": (
        "<b>Status Duta</b>\n"
        "Antrean: {pending} menunggu ({held} ditahan), {sent} terkirim, {failed} gagal\n"
        "Sumber: {sources} dipantau, {failing} gagal\n"
        "Siklus terakhir: {cycle}"
    ),
    "status.cycle": (
        "{finished} — {new} artikel baru, {failed} dari {sources} sumber gagal, {elapsed} dtk"
    ),
    "status.no_cycle": "belum ada",
    # --- errors -------------------------------------------------------------------------
    "error.admins_only": "Hanya admin grup ini yang dapat mengubah langganannya.",
    "error.admin_chats_only": "/status hanya untuk admin Duta.",
    "error.unknown_command": "Saya tidak mengenal perintah itu. Lihat /help untuk daftarnya.",
    "error.unknown_topic": "Saya tidak mengenal topik “{word}”. Jelajahi topik dengan /topics.",
    "error.unknown_topic_suggest": (
        "Saya tidak mengenal topik “{word}”. Mungkin maksud Anda {suggestions}?"
    ),
    "error.bad_period": (
        "“{value}” bukan periode. Gunakan jam, hari, atau minggu: <code>24h</code>, "
        "<code>3d</code>, <code>1w</code> (paling lama 30 hari)."
    ),
    "error.bad_timezone": (
        "“{value}” bukan zona waktu. Gunakan nama seperti <code>Asia/Jakarta</code> atau "
        "<code>Asia/Ho_Chi_Minh</code>."
    ),
    "error.bad_time": "“{value}” bukan jam. Gunakan JJ:MM, misalnya <code>07:30</code>.",
    "error.bad_quiet": (
        "Jam tenang ditulis seperti <code>22:00-07:00</code> (awal dan akhir berbeda), atau "
        "<code>off</code>."
    ),
    "error.bad_language": "“{value}” bukan bahasa yang saya kuasai. Gunakan id, en, atau vi.",
    "error.bad_weekday": (
        "“{value}” bukan nama hari. Gunakan senin, selasa, rabu, kamis, jumat, sabtu, atau minggu."
    ),
    "error.button_expired": "Tombol ini sudah tidak berlaku. Buka /topics lagi.",
    "error.internal": "Terjadi kesalahan di sisi saya. Silakan coba lagi sebentar lagi.",
    # --- /topics and its buttons --------------------------------------------------------
    "topics.title": (
        "<b>Topik</b>\nPilih kelompok, lalu ketuk topik untuk mengikuti atau berhenti "
        "mengikutinya. ✓ menandai yang diikuti obrolan ini."
    ),
    "topics.facet": (
        "<b>{facet}</b>\nKetuk topik untuk mengikuti atau berhenti mengikutinya. ✓ = diikuti."
    ),
    "topics.quick": "<b>Pilihan cepat</b>\nKetuk untuk mengikuti atau berhenti. ✓ = diikuti.",
    "button.facet": "{facet}",
    "button.topic": "{label}",
    "button.topic_on": "✓ {label}",
    "button.back": "« Kembali",
    "button.prev": "‹ Sebelumnya",
    "button.next": "Berikutnya ›",
    "button.all_topics": "Semua topik »",
    "toggle.on": "✓ Mengikuti {topic}",
    "toggle.off": "Berhenti mengikuti {topic}",
    # --- facet names ---------------------------------------------------------------------
    "facet.theme": "Tema",
    "facet.partner": "Mitra",
    "facet.org": "Organisasi",
    "facet.event": "Peristiwa",
    "facet.place": "Tempat",
    # --- words inside alerts and digests ---------------------------------------------------
    "render.also_in": "juga di: {sites}",
    "render.source": "Sumber",
    "render.read": "Baca di {site}",
    "render.other": "Lainnya",
}
