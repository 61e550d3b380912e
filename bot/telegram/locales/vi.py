"""Vietnamese UI strings (Tiếng Việt); same keys and placeholders as `en`."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # --- /start -------------------------------------------------------------------------
    "start.welcome": (
        "👋 Chào mừng bạn đến với <b>Duta</b>.\n\n"
        "Duta theo dõi tin tức về quan hệ đối ngoại của Việt Nam — ngoại giao nhân dân, các "
        "hội hữu nghị, tổ chức phi chính phủ nước ngoài, hợp tác địa phương, khoa học và công "
        "nghệ — rồi gửi cho bạn những tin khớp với chủ đề bạn theo dõi: vài dòng tóm tắt, các "
        "thẻ và đường dẫn.\n\n"
        "<b>Chọn nhanh</b>\n"
        "• /subscribe theme/people-to-people — ngoại giao nhân dân\n"
        "• /subscribe partner/jp — mọi tin về Nhật Bản\n"
        "• /subscribe theme/ngo daily — tổ chức phi chính phủ nước ngoài, qua bản tin hằng ngày\n\n"
        "Bấm một nút bên dưới, xem mọi chủ đề bằng /topics, hoặc xem tất cả các lệnh bằng /help."
    ),
    "start.group": "Trong nhóm, chỉ quản trị viên mới có thể thay đổi đăng ký và cài đặt.",
    # --- /help --------------------------------------------------------------------------
    "help.intro": "<b>Duta</b> — tin tức về quan hệ đối ngoại của Việt Nam.\n\n<b>Các lệnh</b>",
    "help.line": "{syntax} — {description}",
    "help.topics": (
        "Có thể gọi chủ đề bằng mã (<code>partner/jp</code>), bằng tên hoặc tên gọi khác "
        "bằng tiếng Việt, tiếng Anh hay tiếng Indonesia (<code>Nhật Bản</code>, "
        "<code>Japan</code>, <code>Jepang</code>)."
    ),
    "syntax.subscribe": "/subscribe chủ_đề… [instant|daily|weekly]",
    "syntax.unsubscribe": "/unsubscribe [chủ_đề…]",
    "syntax.digest": "/digest [khoảng_thời_gian] [chủ_đề…]",
    "syntax.why": "/why đường_dẫn",
    "syntax.settings": "/settings [tên giá_trị]",
    # --- command menu -------------------------------------------------------------------
    "cmd.start": "Duta làm gì, kèm các lựa chọn nhanh",
    "cmd.help": "Danh sách mọi lệnh",
    "cmd.topics": "Xem các chủ đề và theo dõi chỉ bằng một lần bấm",
    "cmd.subscribe": "Theo dõi chủ đề: thông báo tức thì hoặc bản tin tổng hợp",
    "cmd.unsubscribe": "Ngừng theo dõi chủ đề (tất cả nếu không nêu chủ đề)",
    "cmd.list": "Các chủ đề cuộc trò chuyện này đang theo dõi",
    "cmd.digest": "Bản tin tổng hợp ngay bây giờ, ví dụ /digest 3d partner/jp",
    "cmd.why": "Vì sao một bài báo khớp: các thẻ và từ ngữ dẫn đến chúng",
    "cmd.settings": "Ngôn ngữ, múi giờ, giờ nhận bản tin, giờ yên lặng",
    "cmd.sources": "Các nguồn đang theo dõi và nguồn đang lỗi",
    "cmd.status": "Hàng đợi và tình trạng nguồn (quản trị viên Duta)",
    # --- usage lines --------------------------------------------------------------------
    "usage.subscribe": (
        "Cách dùng: /subscribe chủ_đề… [instant|daily|weekly]\n"
        "Ví dụ: <code>/subscribe partner/jp</code> hoặc "
        "<code>/subscribe Nhật Bản ngoại giao nhân dân hangngay</code>"
    ),
    "usage.unsubscribe": (
        "Cách dùng: /unsubscribe chủ_đề… — hoặc chỉ /unsubscribe để ngừng mọi đăng ký trong "
        "cuộc trò chuyện này.\n"
        "Ví dụ: <code>/unsubscribe partner/jp</code>"
    ),
    "usage.digest": (
        "Cách dùng: /digest [khoảng_thời_gian] [chủ_đề…] — tính bằng giờ, ngày hoặc tuần, "
        "tối đa 30 ngày.\n"
        "Ví dụ: <code>/digest</code>, <code>/digest 3d partner/jp</code>, "
        "<code>/digest 1w theme/ngo</code>"
    ),
    "usage.why": (
        "Cách dùng: /why đường_dẫn — gửi địa chỉ một bài báo Duta đã thấy.\n"
        "Ví dụ: <code>/why https://thoidai.com.vn/…</code>"
    ),
    "usage.settings": (
        "Cách dùng: /settings tên giá_trị\n"
        "<code>/settings lang vi</code> · <code>/settings tz Asia/Ho_Chi_Minh</code> · "
        "<code>/settings digest 07:30</code> · <code>/settings weekly t2</code> · "
        "<code>/settings quiet 22:00-07:00</code> · <code>/settings quiet off</code>"
    ),
    # --- delivery modes -----------------------------------------------------------------
    "mode.instant": "thông báo tức thì",
    "mode.daily": "bản tin hằng ngày",
    "mode.weekly": "bản tin hằng tuần",
    # --- /subscribe and /unsubscribe ----------------------------------------------------
    "subscribe.done": "✅ Đã đăng ký {topics} — {mode}.",
    "subscribe.already": "Bạn đã theo dõi {topics} — {mode}.",
    "subscribe.mode_changed": "🔁 {topics}: chuyển sang {mode}.",
    "subscribe.thread": "Thông báo cho các chủ đề này sẽ được gửi vào chủ đề diễn đàn này.",
    "unsubscribe.done": "🔕 Đã hủy đăng ký {topics}.",
    "unsubscribe.all": "🔕 Đã hủy đăng ký tất cả chủ đề ({count}).",
    "unsubscribe.nothing": "Không có đăng ký nào để hủy.",
    # --- /list --------------------------------------------------------------------------
    "list.empty": (
        "Cuộc trò chuyện này chưa theo dõi chủ đề nào. Xem các chủ đề bằng /topics hoặc thử "
        "<code>/subscribe partner/jp</code>."
    ),
    "list.title": "<b>Các chủ đề đang theo dõi</b>",
    "list.thread": "<i>Trong chủ đề diễn đàn {thread}</i>",
    "list.item": "• {label} (<code>{topic}</code>) — {mode}",
    "list.footer": (
        "Ngừng một chủ đề bằng <code>/unsubscribe chủ_đề</code>, tất cả bằng /unsubscribe."
    ),
    # --- /digest ------------------------------------------------------------------------
    "digest.title": "Bản tin Duta — {date}",
    "digest.empty": "Không có tin mới trong {period} qua.",
    "digest.empty_topics": "Không có tin mới về {topics} trong {period} qua.",
    # --- /why ---------------------------------------------------------------------------
    "why.not_found": "Duta chưa lưu bài báo nào tại {url}.",
    "why.relevant": "✅ Về quan hệ đối ngoại của Việt Nam (điểm {score}).",
    "why.not_relevant": "➖ Không phải về quan hệ đối ngoại của Việt Nam (điểm {score}).",
    "why.untagged": "Bài báo này chưa được gắn thẻ.",
    "why.no_tags": "Không có thẻ nào khớp với bài báo này.",
    "why.tags": "<b>Các thẻ và từ ngữ dẫn đến chúng</b>",
    "why.tag": "• {label} (<code>{topic}</code>, {score}): {evidence}",
    # --- /settings ----------------------------------------------------------------------
    "settings.current": (
        "<b>Cài đặt</b>\n"
        "Ngôn ngữ: {language}\n"
        "Múi giờ: {timezone}\n"
        "Bản tin: lúc {digest_time} (hằng tuần vào {weekday})\n"
        "Giờ yên lặng: {quiet}\n\n"
        "<b>Cách thay đổi</b>\n"
        "<code>/settings lang vi</code> — ngôn ngữ: id, en hoặc vi\n"
        "<code>/settings tz Asia/Jakarta</code> — múi giờ\n"
        "<code>/settings digest 07:30</code> — giờ nhận bản tin\n"
        "<code>/settings weekly t2</code> — ngày nhận bản tin hằng tuần\n"
        "<code>/settings quiet 22:00-07:00</code> — tạm giữ thông báo tức thì ban đêm\n"
        "<code>/settings quiet off</code> — tắt giờ yên lặng"
    ),
    "settings.quiet_off": "tắt",
    "settings.quiet_range": "{start}–{end}",
    "settings.lang_done": "🌐 Từ giờ Duta sẽ dùng tiếng Việt trong cuộc trò chuyện này.",
    "settings.tz_done": "🕒 Múi giờ: {timezone}.",
    "settings.digest_done": "📰 Bản tin sẽ được gửi lúc {time}.",
    "settings.weekly_done": "📅 Bản tin hằng tuần sẽ được gửi vào {weekday}.",
    "settings.quiet_done": (
        "🌙 Giờ yên lặng: {start}–{end}. Thông báo tức thì sẽ chờ đến khi hết giờ yên lặng."
    ),
    "settings.quiet_off_done": "🔔 Đã tắt giờ yên lặng.",
    "weekday.0": "thứ Hai",
    "weekday.1": "thứ Ba",
    "weekday.2": "thứ Tư",
    "weekday.3": "thứ Năm",
    "weekday.4": "thứ Sáu",
    "weekday.5": "thứ Bảy",
    "weekday.6": "Chủ nhật",
    "lang.en": "English",
    "lang.id": "Bahasa Indonesia",
    "lang.vi": "Tiếng Việt",
    # --- /sources -----------------------------------------------------------------------
    "sources.title": "<b>Nguồn tin</b>: đang theo dõi {count}, {failing} nguồn lỗi.",
    "sources.item": "• {name} ({language})",
    "sources.all_ok": "✅ Mọi nguồn đều hoạt động bình thường.",
    "sources.failing": "<b>Các nguồn đang lỗi</b>",
    "sources.failing_item": "⚠️ {name} — {error} (từ {since}, lỗi {count} lần liên tiếp)",
    # --- /status ------------------------------------------------------------------------
    "status.text": (
        "<b>Trạng thái Duta</b>\n"
        "Hàng đợi: {pending} đang chờ ({held} tạm giữ), {sent} đã gửi, {failed} thất bại\n"
        "Nguồn: đang theo dõi {sources}, {failing} nguồn lỗi\n"
        "Chu kỳ gần nhất: {cycle}"
    ),
    "status.cycle": ("{finished} — {new} bài mới, {failed}/{sources} nguồn lỗi, {elapsed} giây"),
    "status.no_cycle": "chưa có",
    # --- errors -------------------------------------------------------------------------
    "error.admins_only": "Chỉ quản trị viên của nhóm này mới có thể thay đổi đăng ký.",
    "error.admin_chats_only": "/status chỉ dành cho quản trị viên Duta.",
    "error.unknown_command": "Duta không biết lệnh này. Xem các lệnh có sẵn bằng /help.",
    "error.unknown_topic": "Duta không biết chủ đề “{word}”. Xem các chủ đề bằng /topics.",
    "error.unknown_topic_suggest": (
        "Duta không biết chủ đề “{word}”. Có phải ý bạn là {suggestions}?"
    ),
    "error.bad_period": (
        "“{value}” không phải khoảng thời gian. Hãy dùng giờ, ngày hoặc tuần: "
        "<code>24h</code>, <code>3d</code>, <code>1w</code> (tối đa 30 ngày)."
    ),
    "error.bad_timezone": (
        "“{value}” không phải múi giờ. Hãy dùng tên như <code>Asia/Ho_Chi_Minh</code> hoặc "
        "<code>Asia/Jakarta</code>."
    ),
    "error.bad_time": "“{value}” không phải giờ hợp lệ. Hãy dùng HH:MM, ví dụ <code>07:30</code>.",
    "error.bad_quiet": (
        "Giờ yên lặng có dạng <code>22:00-07:00</code> (giờ bắt đầu khác giờ kết thúc), "
        "hoặc <code>off</code>."
    ),
    "error.bad_language": "“{value}” không phải ngôn ngữ Duta hỗ trợ. Hãy dùng id, en hoặc vi.",
    "error.bad_weekday": (
        "“{value}” không phải ngày trong tuần. Hãy dùng t2, t3, t4, t5, t6, t7 hoặc cn."
    ),
    "error.button_expired": "Nút này không còn hiệu lực. Hãy mở lại /topics.",
    "error.internal": "Đã xảy ra lỗi phía Duta. Vui lòng thử lại sau ít phút.",
    # --- /topics and its buttons --------------------------------------------------------
    "topics.title": (
        "<b>Chủ đề</b>\nChọn một nhóm, rồi bấm vào chủ đề để theo dõi hoặc ngừng theo dõi. "
        "Dấu ✓ là chủ đề cuộc trò chuyện này đang theo dõi."
    ),
    "topics.facet": (
        "<b>{facet}</b>\nBấm vào chủ đề để theo dõi hoặc ngừng theo dõi. ✓ = đang theo dõi."
    ),
    "topics.quick": ("<b>Chọn nhanh</b>\nBấm để theo dõi hoặc ngừng theo dõi. ✓ = đang theo dõi."),
    "button.facet": "{facet}",
    "button.topic": "{label}",
    "button.topic_on": "✓ {label}",
    "button.back": "« Quay lại",
    "button.prev": "‹ Trước",
    "button.next": "Tiếp ›",
    "button.all_topics": "Mọi chủ đề »",
    "toggle.on": "✓ Đang theo dõi {topic}",
    "toggle.off": "Đã ngừng theo dõi {topic}",
    # --- facet names ---------------------------------------------------------------------
    "facet.theme": "Lĩnh vực",
    "facet.partner": "Đối tác",
    "facet.org": "Tổ chức",
    "facet.event": "Sự kiện",
    "facet.place": "Địa danh",
    # --- words inside alerts and digests ---------------------------------------------------
    "render.also_in": "cũng có trên: {sites}",
    "render.source": "Nguồn",
    "render.read": "Đọc trên {site}",
    "render.other": "Tin khác",
}
