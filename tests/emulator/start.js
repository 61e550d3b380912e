'use strict';
/**
 * A local Telegram Bot API server for Duta's tests: telegram-test-api with the
 * fidelity fixes python-telegram-bot 22 needs, applied before start().
 *
 * Usage: node start.js [PORT]   (or EMULATOR_PORT; 0 picks a free port)
 * Prints one line when it listens:  telegram-emulator ready http://127.0.0.1:PORT
 * Stops on SIGTERM/SIGINT, and when its standard input closes if
 * EMULATOR_EXIT_ON_STDIN_CLOSE=1 (so a crashed test runner leaves no server behind).
 *
 * Bot side (/bot<token>/<method>): answers the way the real Bot API does — HTTP status
 * = error_code, {ok:false, error_code, description, parameters?} — for the methods in
 * BOT_METHODS below; any other method gets 404 like the real server.
 * User side (POST, JSON): /sendMessage, /sendCommand, /sendCallback play a user;
 * /getBotMessages, /getCallbackAnswers, /getBotCommands read what the bot did;
 * /addChat, /setChatMember, /setChatState set the world up. See README.md.
 */
const TelegramServer = require('telegram-test-api');

const HOST = '127.0.0.1';
const MAX_TEXT_LENGTH = 4096; // UTF-16 code units after entity parsing
const MAX_POLL_S = 50;
const STORE_S = 24 * 3600; // keep every update for the life of a test session
const BOT_FIRST_NAME = process.env.EMULATOR_BOT_NAME || 'Duta';
const BOT_USERNAME = process.env.EMULATOR_BOT_USERNAME || 'duta_test_bot';
const MEMBER_STATUSES = new Set(['creator', 'administrator', 'member', 'restricted', 'left', 'kicked']);
const COMMAND_SCOPES = new Set([
  'default', 'all_private_chats', 'all_group_chats', 'all_chat_administrators',
  'chat', 'chat_administrators', 'chat_member',
]);
// Parameters that arrive JSON-encoded in form bodies (python-telegram-bot posts forms).
const JSON_PARAMS = new Set([
  'chat_id', 'message_id', 'message_thread_id', 'user_id', 'reply_markup', 'entities',
  'link_preview_options', 'reply_parameters', 'disable_notification', 'protect_content',
  'show_alert', 'cache_time', 'scope', 'commands', 'offset', 'limit', 'timeout',
  'allowed_updates', 'drop_pending_updates', 'reply_to_message_id', 'allow_sending_without_reply',
]);

class ApiError extends Error {
  constructor(code, description, parameters) {
    super(description);
    this.code = code;
    this.description = description;
    this.parameters = parameters;
  }
}

const badRequest = (what) => new ApiError(400, `Bad Request: ${what}`);
const nowS = () => Math.floor(Date.now() / 1000);

function sendOk(res, result) {
  res.status(200).json({ ok: true, result });
}

/** Answers an ApiError as Telegram would; anything else is the emulator's own bug. */
function sendError(res, error) {
  if (error instanceof ApiError) {
    sendFail(res, error);
    return;
  }
  process.stderr.write(`telegram-emulator error: ${error.stack || error}\n`);
  sendFail(res, new ApiError(500, `Internal Server Error: ${error.message || error}`));
}

function sendFail(res, error) {
  const body = { ok: false, error_code: error.code, description: error.description };
  if (error.parameters) body.parameters = error.parameters;
  res.status(error.code).json(body);
}

/** Query and body merged; JSON-encoded form values decoded. */
function params(req) {
  const merged = { ...req.query, ...req.body };
  for (const key of Object.keys(merged)) {
    if (JSON_PARAMS.has(key) && typeof merged[key] === 'string') {
      try {
        merged[key] = JSON.parse(merged[key]);
      } catch (_err) {
        // a plain string (e.g. "@channel" as chat_id) stays as it is
      }
    }
  }
  return merged;
}

// ---------------------------------------------------------------- HTML parse mode

const HTML_TAGS = new Set([
  'a', 'b', 'strong', 'i', 'em', 's', 'strike', 'del', 'u', 'ins',
  'tg-spoiler', 'tg-emoji', 'span', 'pre', 'code', 'blockquote',
]);
const TAG_TYPES = {
  b: 'bold', strong: 'bold', i: 'italic', em: 'italic', u: 'underline', ins: 'underline',
  s: 'strikethrough', strike: 'strikethrough', del: 'strikethrough', 'tg-spoiler': 'spoiler',
  span: 'spoiler', code: 'code', pre: 'pre', blockquote: 'blockquote', 'tg-emoji': 'custom_emoji',
  a: 'text_link',
};
const NAMED_ENTITIES = { lt: '<', gt: '>', amp: '&', quot: '"' };

function decodeEntity(source, i) {
  const m = /^&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));/.exec(source.slice(i, i + 12));
  if (!m) return null;
  if (m[3]) return m[3] in NAMED_ENTITIES ? [NAMED_ENTITIES[m[3]], m[0].length] : null;
  const code = m[1] ? Number(m[1]) : parseInt(m[2], 16);
  if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return null;
  return [String.fromCodePoint(code), m[0].length];
}

function decodeText(source) {
  let out = '';
  for (let i = 0; i < source.length;) {
    const decoded = source[i] === '&' ? decodeEntity(source, i) : null;
    if (decoded) {
      out += decoded[0];
      i += decoded[1];
    } else {
      out += source[i];
      i += 1;
    }
  }
  return out;
}

function parseAttributes(text, tag, fail) {
  const attrs = {};
  const re = /\s*([^\s=>]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/y;
  let pos = 0;
  while (pos < text.length && text.slice(pos).trim()) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) fail(`Expected equal sign in declaration of an attribute of the tag "${tag}"`);
    const value = m[2] ?? m[3] ?? m[4];
    attrs[m[1].toLowerCase()] = value === undefined ? '' : decodeText(value);
    pos = re.lastIndex;
  }
  return attrs;
}

function entityFor(tag, offset, length) {
  const entity = { type: TAG_TYPES[tag.name], offset, length };
  if (tag.name === 'a') {
    if (!tag.attrs.href) return null;
    entity.url = tag.attrs.href;
  } else if (tag.name === 'pre' && tag.language) {
    entity.language = tag.language;
  } else if (tag.name === 'blockquote' && 'expandable' in tag.attrs) {
    entity.type = 'expandable_blockquote';
  } else if (tag.name === 'tg-emoji') {
    entity.custom_emoji_id = tag.attrs['emoji-id'];
  }
  return entity;
}

function closeTag(source, begin, open, out, entities, fail) {
  const end = source.indexOf('>', begin);
  if (end === -1) fail(`Unclosed end tag at byte offset ${byteOffset(source, begin)}`);
  const name = source.slice(begin + 2, end).trim().toLowerCase();
  if (!open.length) fail(`Unexpected end tag at byte offset ${byteOffset(source, begin)}`);
  const tag = open.pop();
  if (name && name !== tag.name) {
    fail(`Unmatched end tag at byte offset ${byteOffset(source, begin)}, `
      + `expected "</${tag.name}>", found "</${name}>"`);
  }
  const parent = open[open.length - 1];
  const language = /^language-(.+)$/.exec(tag.attrs.class || '');
  if (tag.name === 'code' && parent && parent.name === 'pre' && language) {
    parent.language = language[1]; // <pre><code class="language-x"> is one pre entity
  } else if (out.length > tag.offset) {
    const entity = entityFor(tag, tag.offset, out.length - tag.offset);
    if (entity) entities.push(entity);
  }
  return end + 1;
}

function openTag(source, begin, open, out, fail) {
  const name = /^[^\s>]*/.exec(source.slice(begin + 1))[0].toLowerCase();
  const at = byteOffset(source, begin);
  if (begin + 1 + name.length >= source.length) fail(`Unclosed start tag at byte offset ${at}`);
  if (!HTML_TAGS.has(name)) fail(`Unsupported start tag "${name}" at byte offset ${at}`);
  const end = source.indexOf('>', begin);
  if (end === -1) fail(`Unclosed start tag at byte offset ${at}`);
  const attrs = parseAttributes(source.slice(begin + 1 + name.length, end), name, fail);
  if (name === 'span' && attrs.class !== 'tg-spoiler') {
    fail(`Tag "span" must have class "tg-spoiler" at byte offset ${at}`);
  }
  open.push({ name, attrs, offset: out.length });
  return end + 1;
}

function byteOffset(source, index) {
  return Buffer.byteLength(source.slice(0, index), 'utf8');
}

/** Telegram's HTML parse mode: plain text and entities, or the error Telegram gives. */
function parseHtml(source) {
  const fail = (what) => {
    throw badRequest(`can't parse entities: ${what}`);
  };
  const open = [];
  const entities = [];
  let out = '';
  let i = 0;
  while (i < source.length) {
    if (source[i] === '<') {
      i = source[i + 1] === '/'
        ? closeTag(source, i, open, out, entities, fail)
        : openTag(source, i, open, out, fail);
    } else {
      const decoded = source[i] === '&' ? decodeEntity(source, i) : null;
      out += decoded ? decoded[0] : source[i];
      i += decoded ? decoded[1] : 1;
    }
  }
  if (open.length) {
    fail(`Can't find end tag corresponding to start tag "${open[open.length - 1].name}"`);
  }
  return { text: out, entities };
}

/** Leading and trailing whitespace is cut, as Telegram does; entities follow the cut. */
function trimFormatted(text, entities) {
  const lead = text.length - text.trimStart().length;
  const trimmed = text.trim();
  const kept = [];
  for (const entity of entities) {
    const start = Math.max(entity.offset - lead, 0);
    const end = Math.min(entity.offset + entity.length - lead, trimmed.length);
    if (end > start) kept.push({ ...entity, offset: start, length: end - start });
  }
  kept.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text: trimmed, entities: kept };
}

/** The text and entities a message shows, from sendMessage/editMessageText parameters. */
function formatText(p, tooLong = 'message is too long') {
  const source = p.text === undefined || p.text === null ? '' : String(p.text);
  let parsed = { text: source, entities: Array.isArray(p.entities) ? p.entities : [] };
  const mode = p.parse_mode ? String(p.parse_mode).toLowerCase() : '';
  if (mode === 'html') parsed = parseHtml(source);
  else if (mode && mode !== 'markdown' && mode !== 'markdownv2') throw badRequest('unsupported parse_mode');
  const result = trimFormatted(parsed.text, parsed.entities);
  if (!result.text) throw badRequest('message text is empty');
  if (result.text.length > MAX_TEXT_LENGTH) throw badRequest(tooLong);
  return result;
}

// ---------------------------------------------------------------- per-bot state

function botUser(token) {
  const id = Number(String(token).split(':')[0]);
  return {
    id: Number.isSafeInteger(id) && id > 0 ? id : 1,
    is_bot: true,
    first_name: BOT_FIRST_NAME,
    username: BOT_USERNAME,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
  };
}

function memberJson(user, status) {
  const base = { status, user };
  if (status === 'creator') return { ...base, is_anonymous: false };
  if (status === 'kicked') return { ...base, until_date: 0 };
  if (status === 'administrator') {
    return {
      ...base, can_be_edited: false, is_anonymous: false, can_manage_chat: true,
      can_delete_messages: true, can_manage_video_chats: true, can_restrict_members: true,
      can_promote_members: false, can_change_info: true, can_invite_users: true,
      can_post_stories: false, can_edit_stories: false, can_delete_stories: false,
      can_pin_messages: true,
    };
  }
  if (status === 'restricted') {
    const flags = [
      'can_change_info', 'can_invite_users', 'can_pin_messages', 'can_send_messages',
      'can_send_polls', 'can_send_other_messages', 'can_add_web_page_previews',
      'can_manage_topics', 'can_send_audios', 'can_send_documents', 'can_send_photos',
      'can_send_videos', 'can_send_video_notes', 'can_send_voice_notes', 'can_edit_tag',
    ];
    return { ...base, is_member: true, until_date: 0, ...Object.fromEntries(flags.map((f) => [f, false])) };
  }
  return base; // member, left
}

function install(server) {
  const bots = new Map();

  function bot(token) {
    if (!token) throw badRequest('token is required');
    if (!bots.has(token)) {
      bots.set(token, {
        token,
        user: botUser(token),
        chats: new Map(), // chat id → Chat
        users: new Map(), // user id → User
        members: new Map(), // chat id → Map(user id → status)
        states: new Map(), // chat id → {blocked, migrateTo, floodUntil}
        confirmed: 0, // updates below this id were confirmed through getUpdates' offset
        allowed: null,
        poll: null,
        commands: new Map(),
        callbacks: new Map(), // issued callback query id → answered?
        answers: [],
      });
    }
    return bots.get(token);
  }

  function meet(b, chat, user) {
    if (chat && chat.id !== undefined) b.chats.set(Number(chat.id), chat);
    if (!user || user.id === undefined) return;
    b.users.set(Number(user.id), user);
    if (!chat) return;
    const members = b.members.get(Number(chat.id)) || new Map();
    if (!members.has(Number(user.id))) members.set(Number(user.id), 'member');
    b.members.set(Number(chat.id), members);
  }

  function knownChat(b, chatId) {
    const chat = b.chats.get(Number(chatId));
    if (!chat) throw badRequest('chat not found');
    return chat;
  }

  function checkDeliverable(b, chatId) {
    const chat = knownChat(b, chatId);
    const state = b.states.get(Number(chatId)) || {};
    if (state.migrateTo) {
      throw new ApiError(400, 'Bad Request: group chat was upgraded to a supergroup chat',
        { migrate_to_chat_id: state.migrateTo });
    }
    if (state.blocked) {
      const where = chat.type === 'private' ? 'bot was blocked by the user'
        : `bot was kicked from the ${chat.type === 'group' ? 'group' : 'supergroup'} chat`;
      throw new ApiError(403, `Forbidden: ${where}`);
    }
    const waitMs = (state.floodUntil || 0) - Date.now();
    if (waitMs > 0) {
      const retryAfter = Math.ceil(waitMs / 1000);
      throw new ApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
    }
    return chat;
  }

  function findBotMessage(b, chatId, messageId) {
    return server.storage.botMessages.find((r) => r.botToken === b.token
      && Number(r.message.chat_id) === Number(chatId) && r.messageId === Number(messageId));
  }

  /** A message in a chat, the user's or the bot's, as the Bot API shows it; or null. */
  function findMessage(b, chatId, messageId) {
    const user = server.storage.userMessages.find((u) => u.botToken === b.token && u.message
      && Number(u.message.chat.id) === Number(chatId) && u.messageId === Number(messageId));
    if (user) return TelegramServer.formatUpdate(user).message;
    const record = findBotMessage(b, chatId, messageId);
    return record ? apiMessage(b, record, false) : null;
  }

  function replyParameters(p) {
    if (p.reply_parameters) return p.reply_parameters;
    if (p.reply_to_message_id === undefined) return null;
    return { message_id: p.reply_to_message_id, allow_sending_without_reply: p.allow_sending_without_reply };
  }

  /** The message a sendMessage call replies to; Telegram refuses a missing one unless told not to. */
  function replyTarget(b, p) {
    const reply = replyParameters(p);
    if (!reply) return null;
    const chatId = reply.chat_id !== undefined ? reply.chat_id : p.chat_id;
    const target = findMessage(b, chatId, reply.message_id);
    if (!target && reply.allow_sending_without_reply !== true) {
      throw badRequest('message to be replied not found');
    }
    return target;
  }

  /** A stored bot message as the Bot API returns it: seconds, parsed text, the real chat. */
  function apiMessage(b, record, withReply = true) {
    const raw = record.message;
    const chatId = Number(raw.chat_id);
    const chat = b.chats.get(chatId) || { id: chatId, type: 'private', first_name: 'Unknown' };
    const { text, entities } = formatText(raw);
    const message = {
      message_id: record.messageId, from: b.user, chat, date: Math.floor(record.time / 1000), text,
    };
    if (raw.message_thread_id !== undefined && raw.message_thread_id !== null) {
      message.message_thread_id = Number(raw.message_thread_id);
      if (chat.is_forum) message.is_topic_message = true;
    }
    if (entities.length) message.entities = entities;
    if (raw.reply_markup && raw.reply_markup.inline_keyboard) message.reply_markup = raw.reply_markup;
    if (record.editDate) message.edit_date = record.editDate;
    const reply = withReply ? replyParameters(raw) : null;
    const replyChat = reply && reply.chat_id !== undefined ? reply.chat_id : chatId;
    const target = reply && findMessage(b, replyChat, reply.message_id);
    if (target) message.reply_to_message = target; // one level deep, as in Telegram
    return message;
  }

  // Fix (b): the emulator stamps sent messages in milliseconds; the Bot API uses seconds.
  const addBotMessage = server.addBotMessage.bind(server);
  server.addBotMessage = (rawMessage, botToken) => {
    const sent = addBotMessage(rawMessage, botToken); // stores the message; its date is in ms
    const record = server.storage.botMessages[server.storage.botMessages.length - 1];
    return { ...apiMessage(bot(botToken), record), date: Math.floor(sent.date / 1000) };
  };

  // Updates as the Bot API delivers them: no emulator bookkeeping, callback queries complete.
  TelegramServer.formatUpdate = (update) => {
    if ('callbackQuery' in update) {
      const { from, message, data, chat_instance: chatInstance } = update.callbackQuery;
      const query = { id: String(update.callbackId), from, chat_instance: chatInstance };
      if (message) query.message = message;
      if (data !== undefined) query.data = data;
      return { update_id: update.updateId, callback_query: query };
    }
    const { botToken: _token, ...message } = update.message;
    return { update_id: update.updateId, message: { ...message, message_id: update.messageId } };
  };

  const updateType = (update) => Object.keys(update).find((key) => key !== 'update_id');

  function pendingUpdates(b, limit) {
    return server.storage.userMessages
      .filter((u) => u.botToken === b.token && u.updateId >= b.confirmed)
      .sort((x, y) => x.updateId - y.updateId)
      .map((u) => [u, TelegramServer.formatUpdate(u)])
      .filter(([, formatted]) => !b.allowed || b.allowed.has(updateType(formatted)))
      .slice(0, limit);
  }

  function deliver(b, limit, res) {
    const pending = pendingUpdates(b, limit);
    pending.forEach(([u]) => { u.isRead = true; });
    sendOk(res, pending.map(([, formatted]) => formatted));
  }

  function confirm(b, offset) {
    if (offset > 0) {
      b.confirmed = Math.max(b.confirmed, offset);
    } else if (offset < 0) {
      const ids = pendingUpdates(b, Infinity).map(([u]) => u.updateId);
      if (ids.length > -offset) b.confirmed = ids[ids.length + offset];
    }
  }

  /** getUpdates with long polling, offset confirmation, limit and allowed_updates. */
  function getUpdates(b, p, res) {
    if (server.webhooks[b.token]) {
      throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
        + 'use deleteWebhook to delete the webhook first');
    }
    const limit = Math.min(Math.max(Number(p.limit) || 100, 1), 100);
    const timeoutS = Math.min(Math.max(Number(p.timeout) || 0, 0), MAX_POLL_S);
    confirm(b, Number(p.offset) || 0);
    if (Array.isArray(p.allowed_updates)) {
      b.allowed = p.allowed_updates.length ? new Set(p.allowed_updates) : null;
    }
    if (b.poll) {
      b.poll.finish(new ApiError(409, 'Conflict: terminated by other getUpdates request; '
        + 'make sure that only one bot instance is running'));
    }
    if (timeoutS === 0 || pendingUpdates(b, limit).length) {
      deliver(b, limit, res);
      return;
    }
    const poll = { done: false };
    poll.finish = (error) => {
      if (poll.done) return;
      poll.done = true;
      clearTimeout(poll.timer);
      if (b.poll === poll) b.poll = null;
      if (error) sendFail(res, error);
      else deliver(b, limit, res);
    };
    poll.wake = () => {
      if (pendingUpdates(b, limit).length) poll.finish(null);
    };
    poll.timer = setTimeout(() => poll.finish(null), timeoutS * 1000);
    res.on('close', () => {
      // the client went away (or the answer was sent): forget the poll without answering
      poll.done = true;
      clearTimeout(poll.timer);
      if (b.poll === poll) b.poll = null;
    });
    b.poll = poll;
  }

  function sendMessage(b, p) {
    checkDeliverable(b, p.chat_id);
    formatText(p); // validate before storing, as Telegram refuses the whole message
    replyTarget(b, p);
    return server.addBotMessage({ ...p, chat_id: Number(p.chat_id) }, b.token);
  }

  function editedRecord(b, p) {
    if (p.inline_message_id) throw badRequest('MESSAGE_ID_INVALID');
    checkDeliverable(b, p.chat_id);
    const record = findBotMessage(b, p.chat_id, p.message_id);
    if (!record) throw badRequest('message to edit not found');
    return record;
  }

  /** Edits replace the text and/or keyboard; a keyboard not sent again is removed. */
  function edit(b, p, changes) {
    const record = editedRecord(b, p);
    const before = apiMessage(b, record);
    const next = { ...record.message, ...changes };
    if (!(p.reply_markup && p.reply_markup.inline_keyboard)) delete next.reply_markup;
    const after = apiMessage(b, { ...record, message: next });
    const same = (m) => JSON.stringify([m.text, m.entities || [], m.reply_markup || null]);
    if (same(before) === same(after)) {
      throw badRequest('message is not modified: specified new message content and reply markup '
        + 'are exactly the same as a current content and reply markup of the message');
    }
    record.message = next;
    record.editDate = nowS();
    return apiMessage(b, record);
  }

  function editMessageText(b, p) {
    editedRecord(b, p);
    formatText(p, 'MESSAGE_TOO_LONG');
    const changes = { text: p.text, parse_mode: p.parse_mode, entities: p.entities };
    if (p.reply_markup) changes.reply_markup = p.reply_markup;
    return edit(b, p, changes);
  }

  function editMessageReplyMarkup(b, p) {
    return edit(b, p, p.reply_markup ? { reply_markup: p.reply_markup } : {});
  }

  function deleteMessage(b, p) {
    knownChat(b, p.chat_id);
    if (!server.deleteMessage(Number(p.chat_id), Number(p.message_id))) {
      throw badRequest('message to delete not found');
    }
    return true;
  }

  function answerCallbackQuery(b, p) {
    const id = String(p.callback_query_id || '');
    if (b.callbacks.get(id) !== false) {
      throw badRequest('query is too old and response timeout expired or query ID is invalid');
    }
    b.callbacks.set(id, true);
    const answer = { callback_query_id: id };
    for (const key of ['text', 'show_alert', 'url', 'cache_time']) {
      if (p[key] !== undefined) answer[key] = p[key];
    }
    b.answers.push(answer);
    return true;
  }

  function commandsKey(p) {
    const scope = p.scope || { type: 'default' };
    if (!COMMAND_SCOPES.has(scope.type)) throw badRequest('wrong parameter scope');
    const lang = p.language_code || '';
    if (lang && !/^[a-z]{2}$/.test(lang)) throw badRequest('invalid language code specified');
    const { type, chat_id: chatId, user_id: userId } = scope;
    return JSON.stringify({ scope: { type, chat_id: chatId, user_id: userId }, language_code: lang });
  }

  function setMyCommands(b, p) {
    const commands = Array.isArray(p.commands) ? p.commands : [];
    if (commands.length > 100) throw badRequest('too many commands');
    for (const c of commands) {
      if (!/^[a-z0-9_]{1,32}$/.test(String(c.command || ''))) throw badRequest('BOT_COMMAND_INVALID');
      const description = String(c.description || '').trim();
      if (!description) throw badRequest('command description must be non-empty');
      if (description.length > 256) throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
    }
    const key = commandsKey(p);
    if (commands.length) {
      b.commands.set(key, commands.map((c) => ({ command: c.command, description: c.description })));
    } else {
      b.commands.delete(key);
    }
    return true;
  }

  function getChatMember(b, p) {
    const chat = knownChat(b, p.chat_id);
    const userId = Number(p.user_id);
    if (userId === b.user.id) {
      const status = (b.members.get(chat.id) || new Map()).get(userId) || 'member';
      return memberJson(b.user, status);
    }
    const user = b.users.get(userId);
    if (!user) throw badRequest('user not found');
    const status = (b.members.get(chat.id) || new Map()).get(userId) || 'left';
    return memberJson(user, status);
  }

  function getChatAdministrators(b, p) {
    const chat = knownChat(b, p.chat_id);
    if (chat.type === 'private') throw badRequest('there are no administrators in the private chat');
    const admins = [];
    for (const [userId, status] of b.members.get(chat.id) || new Map()) {
      if (status !== 'creator' && status !== 'administrator') continue;
      admins.push(memberJson(userId === b.user.id ? b.user : b.users.get(userId), status));
    }
    return admins;
  }

  function getChat(b, p) {
    const chat = knownChat(b, p.chat_id);
    return {
      ...chat,
      accent_color_id: 0,
      max_reaction_count: 11,
      accepted_gift_types: {
        unlimited_gifts: false, limited_gifts: false, unique_gifts: false,
        premium_subscription: false, gifts_from_channels: false,
      },
    };
  }

  function setWebhook(b, p) {
    if (!p.url) {
      server.deleteWebhook(b.token);
      return true;
    }
    if (b.poll) b.poll.finish(null);
    server.setWebhook({ url: p.url }, b.token);
    if (p.drop_pending_updates === true) b.confirmed = server.updateId;
    return true;
  }

  function deleteWebhook(b, p) {
    server.deleteWebhook(b.token);
    if (p.drop_pending_updates === true) b.confirmed = server.updateId;
    return true;
  }

  const BOT_METHODS = {
    getMe: (b) => b.user, // fix (a): a complete User with is_bot, which PTB requires
    getUpdates,
    setWebhook,
    deleteWebhook,
    getWebhookInfo: (b) => ({
      url: (server.webhooks[b.token] || {}).url || '',
      has_custom_certificate: false,
      pending_update_count: pendingUpdates(b, Infinity).length,
    }),
    sendMessage,
    editMessageText,
    editMessageReplyMarkup,
    deleteMessage,
    sendChatAction: (b, p) => Boolean(checkDeliverable(b, p.chat_id)),
    answerCallbackQuery,
    setMyCommands,
    getMyCommands: (b, p) => b.commands.get(commandsKey(p)) || [],
    deleteMyCommands: (b, p) => {
      b.commands.delete(commandsKey(p));
      return true;
    },
    getChat,
    getChatMember,
    getChatAdministrators,
  };

  function botRoute(req, res) {
    const handler = BOT_METHODS[req.params.method];
    try {
      if (!['GET', 'POST'].includes(req.method)) throw new ApiError(405, 'Method Not Allowed');
      if (!handler) throw new ApiError(404, 'Not Found');
      const result = handler(bot(req.params.token), params(req), res);
      if (result !== undefined) sendOk(res, result);
    } catch (error) {
      sendError(res, error);
    }
  }

  // ------------------------------------------------------------ the user's side

  function commandEntities(text) {
    const first = String(text).split(/\s/, 1)[0];
    return first.startsWith('/') ? [{ offset: 0, length: first.length, type: 'bot_command' }] : [];
  }

  async function addUserMessage(body, kind) {
    const b = bot(body.botToken);
    if (!body.chat || !body.from) throw badRequest('a user message needs chat and from');
    meet(b, body.chat, body.from);
    const message = { ...body, date: body.date || nowS() };
    if (kind === 'command' && !message.entities) message.entities = commandEntities(message.text);
    if (kind === 'command') await server.addUserCommand(message);
    else await server.addUserMessage(message);
    return b;
  }

  async function addUserCallback(body) {
    const b = bot(body.botToken);
    if (!body.from) throw badRequest('a callback query needs from');
    const chatId = Number(body.chat_id !== undefined ? body.chat_id : body.message.chat.id);
    const messageId = Number(body.message_id !== undefined ? body.message_id : body.message.message_id);
    const record = findBotMessage(b, chatId, messageId);
    if (!record) throw badRequest(`the bot sent no message ${messageId} to chat ${chatId}`);
    meet(b, knownChat(b, chatId), body.from);
    const id = String(server.callbackId);
    b.callbacks.set(id, false);
    await server.addUserCallback({
      botToken: b.token,
      from: body.from,
      message: apiMessage(b, record),
      data: body.data,
      chat_instance: String(body.chat_instance || chatId),
    });
    return b;
  }

  function userRoute(add) {
    return async (req, res) => {
      try {
        const updateId = server.updateId;
        const b = await add(req.body || {});
        if (b.poll) b.poll.wake();
        const stored = server.storage.userMessages.find((u) => u.updateId === updateId);
        sendOk(res, stored ? TelegramServer.formatUpdate(stored) : null);
      } catch (error) {
        sendError(res, error);
      }
    };
  }

  function readRoute(read) {
    return (req, res) => {
      try {
        const body = req.body || {};
        sendOk(res, read(bot(body.token || body.botToken), body));
      } catch (error) {
        sendError(res, error);
      }
    };
  }

  const CLIENT_ROUTES = {
    '/sendMessage': userRoute((body) => addUserMessage(body, 'message')),
    '/sendCommand': userRoute((body) => addUserMessage(body, 'command')),
    '/sendCallback': userRoute(addUserCallback),
    '/getBotMessages': readRoute((b, body) => server.storage.botMessages
      .filter((r) => r.botToken === b.token && Number(r.message.chat_id) === Number(body.chatId))
      .map((r) => ({ ...apiMessage(b, r), sent: r.message }))),
    '/getCallbackAnswers': readRoute((b) => b.answers),
    '/getBotCommands': readRoute((b) => [...b.commands].map(([key, commands]) => ({
      ...JSON.parse(key), commands,
    }))),
    '/addChat': readRoute((b, body) => {
      meet(b, body.chat, null);
      return true;
    }),
    '/setChatMember': readRoute((b, body) => {
      if (!MEMBER_STATUSES.has(body.status)) throw badRequest(`unknown member status ${body.status}`);
      meet(b, body.chat, body.user);
      b.members.get(Number(body.chat.id)).set(Number(body.user.id), body.status);
      return true;
    }),
    '/setChatState': readRoute((b, body) => {
      const chat = knownChat(b, body.chat_id);
      const state = b.states.get(chat.id) || {};
      if (body.blocked !== undefined) state.blocked = Boolean(body.blocked);
      if (body.retry_after !== undefined) state.floodUntil = Date.now() + Number(body.retry_after) * 1000;
      if (body.migrate_to_chat_id !== undefined) {
        state.migrateTo = Number(body.migrate_to_chat_id);
        b.chats.set(state.migrateTo, { ...chat, id: state.migrateTo, type: 'supergroup' });
        b.members.set(state.migrateTo, new Map(b.members.get(chat.id) || []));
      }
      b.states.set(chat.id, state);
      return true;
    }),
  };

  // Fix (a) and the rest: register our routes, then move their layers in front of the
  // emulator's built-in routes in the Express router stack (after the body parsers).
  const app = server.webServer;
  const stack = app._router.stack;
  const before = stack.length;
  app.all('/bot:token/:method', botRoute);
  for (const [path, handler] of Object.entries(CLIENT_ROUTES)) app.post(path, handler);
  const ours = stack.splice(before, stack.length - before);
  const firstRoute = stack.findIndex((layer) => layer.route);
  stack.splice(firstRoute === -1 ? stack.length : firstRoute, 0, ...ours);

  return {
    endPolls() {
      for (const b of bots.values()) if (b.poll) b.poll.finish(null);
    },
  };
}

async function main() {
  const port = Number(process.argv[2] || process.env.EMULATOR_PORT || 0);
  const server = new TelegramServer({ port: port || 9000, host: HOST, storeTimeout: STORE_S });
  server.config.port = port; // 0: let the system pick a free port
  const emulator = install(server);
  await server.start();
  const actual = server.server.address().port;
  server.config.port = actual;
  server.config.apiURL = `http://${HOST}:${actual}`;

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 2000).unref();
    emulator.endPolls();
    await server.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (process.env.EMULATOR_EXIT_ON_STDIN_CLOSE === '1') {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
  process.stdout.write(`telegram-emulator ready ${server.config.apiURL}\n`);
}

main().catch((error) => {
  process.stderr.write(`telegram-emulator failed: ${error.stack || error}\n`);
  process.exit(1);
});
