/**
 * The requester page's words, in English and Russian. The language comes from the browser
 * and can be switched; nothing remembers the choice (no storage on a requester's device).
 */
export type Lang = 'en' | 'ru';

const en = {
  title: 'Ask for help safely',
  intro: 'Your message is encrypted on this device before it is sent. Only the team you choose can read it. No account, no name needed.',
  quickExit: 'Quick exit',
  quickExitHint: 'Or press Escape three times.',
  switchLang: 'Русский',
  topic: 'Who should read your message?',
  message: 'Your message',
  messageHint: 'Say what is happening and what help you need. Do not include anything you do not want the team to know.',
  contact: 'How can we reach you? (optional)',
  contactHint: 'For example a Signal or Telegram name, or a safe email. It is encrypted too.',
  send: 'Encrypt and send',
  haveCode: 'I already sent a request and have a passphrase',
  working: 'Preparing…',
  encrypting: 'Encrypting on your device…',
  proving: 'Checking this device is not a robot (this can take a minute)…',
  sending: 'Sending…',
  sentTitle: 'Your request was sent',
  sentIntro: 'Write this passphrase down and keep it somewhere safe. It is the only way to read replies. It will not be shown again and we cannot recover it.',
  sentAdvice: 'Do not save it in this browser or take a screenshot if someone may check this device.',
  written: 'I have written it down',
  returnTitle: 'Read replies',
  passphrase: 'Passphrase',
  passphraseHint: 'Capital letters, extra spaces and punctuation do not matter.',
  open: 'Open',
  opening: 'Opening…',
  notFound: 'No request matches this passphrase. Check the words and try again.',
  thread: 'Your conversation',
  fromYou: 'You',
  fromTeam: 'Team',
  noReplies: 'No reply yet. Please check again later.',
  addMessage: 'Add a message',
  sendMore: 'Encrypt and send',
  added: 'Your message was added.',
  back: 'Back',
  verified: 'Team keys verified. Organisation key fingerprint:',
  keyProblem: 'The encryption keys could not be verified. Do not send anything; try again later.',
  unavailable: 'The service cannot be reached right now. Please try again later.',
  tooLong: 'The message is too long.',
  empty: 'Please write a message.',
  chooseTeam: 'Please choose who should read your message.',
  failed: 'Sending failed. Nothing was saved. Please try again.',
  staleKey: 'The team key has just changed. Please press send again.',
  noscriptTitle: 'JavaScript is off: less protected form',
  noscriptWarning: 'With JavaScript off, your message cannot be encrypted on your device. It is encrypted on our server the moment it arrives and is never stored unencrypted, but the server sees it briefly. If you can, turn JavaScript on (in Tor Browser: the "Safer" level works) and reload.',
  noscriptSent: 'Your request was sent (less protected form)',
  noscriptReturn: 'Read replies (less protected: your passphrase is sent to the server)',
  noscriptBusy: 'Too many requests are arriving right now. Please wait a minute and try again.',
  noscriptInvalid: 'Please choose a team and write a message (not too long).',
  unverified: 'This message could not be verified',
  legacy: '(sent before messages were signed) ',
  keysExpired: "This hotline's keys need renewing; try again later.",
  retrying: 'Someone added a message at the same moment; sending again…',
} as const;

export type Strings = { [K in keyof typeof en]: string };

const ru: Strings = {
  title: 'Безопасно попросить о помощи',
  intro: 'Ваше сообщение шифруется на этом устройстве до отправки. Прочитать его сможет только выбранная вами команда. Не нужны ни аккаунт, ни имя.',
  quickExit: 'Быстрый выход',
  quickExitHint: 'Или нажмите Escape три раза.',
  switchLang: 'English',
  topic: 'Кто должен прочитать ваше сообщение?',
  message: 'Ваше сообщение',
  messageHint: 'Опишите, что происходит и какая помощь нужна. Не пишите того, что не хотите сообщать команде.',
  contact: 'Как с вами связаться? (необязательно)',
  contactHint: 'Например, имя в Signal или Telegram или безопасная почта. Это тоже шифруется.',
  send: 'Зашифровать и отправить',
  haveCode: 'Я уже отправил(а) запрос, и у меня есть кодовая фраза',
  working: 'Подготовка…',
  encrypting: 'Шифрование на вашем устройстве…',
  proving: 'Проверка, что это не робот (может занять минуту)…',
  sending: 'Отправка…',
  sentTitle: 'Ваш запрос отправлен',
  sentIntro: 'Запишите эту кодовую фразу и храните в надёжном месте. Только с ней можно прочитать ответы. Она больше не будет показана, и восстановить её невозможно.',
  sentAdvice: 'Не сохраняйте её в этом браузере и не делайте снимок экрана, если устройство могут проверить.',
  written: 'Я записал(а) её',
  returnTitle: 'Прочитать ответы',
  passphrase: 'Кодовая фраза',
  passphraseHint: 'Заглавные буквы, лишние пробелы и знаки препинания не важны.',
  open: 'Открыть',
  opening: 'Открываем…',
  notFound: 'Запрос с такой кодовой фразой не найден. Проверьте слова и попробуйте ещё раз.',
  thread: 'Ваша переписка',
  fromYou: 'Вы',
  fromTeam: 'Команда',
  noReplies: 'Ответа пока нет. Загляните позже.',
  addMessage: 'Добавить сообщение',
  sendMore: 'Зашифровать и отправить',
  added: 'Ваше сообщение добавлено.',
  back: 'Назад',
  verified: 'Ключи команд проверены. Отпечаток ключа организации:',
  keyProblem: 'Не удалось проверить ключи шифрования. Ничего не отправляйте, попробуйте позже.',
  unavailable: 'Сервис сейчас недоступен. Попробуйте позже.',
  tooLong: 'Сообщение слишком длинное.',
  empty: 'Пожалуйста, напишите сообщение.',
  chooseTeam: 'Пожалуйста, выберите, кто должен прочитать сообщение.',
  failed: 'Отправить не удалось. Ничего не сохранено. Попробуйте ещё раз.',
  staleKey: 'Ключ команды только что сменился. Нажмите «Отправить» ещё раз.',
  noscriptTitle: 'JavaScript выключен: менее защищённая форма',
  noscriptWarning: 'Без JavaScript сообщение нельзя зашифровать на вашем устройстве. Оно шифруется на нашем сервере сразу при получении и никогда не хранится в открытом виде, но сервер на короткое время видит его. Если можете, включите JavaScript (в Tor Browser подойдёт уровень «Более безопасный») и обновите страницу.',
  noscriptSent: 'Ваш запрос отправлен (менее защищённая форма)',
  noscriptReturn: 'Прочитать ответы (менее защищённо: кодовая фраза передаётся на сервер)',
  noscriptBusy: 'Сейчас приходит слишком много запросов. Подождите минуту и попробуйте снова.',
  noscriptInvalid: 'Выберите команду и напишите сообщение (не слишком длинное).',
  unverified: 'Это сообщение не удалось проверить',
  legacy: '(отправлено до того, как сообщения стали подписываться) ',
  keysExpired: 'Ключи этой горячей линии нужно обновить; попробуйте позже.',
  retrying: 'В этот же момент было добавлено другое сообщение; отправляем ещё раз…',
};

export const STRINGS: Record<Lang, Strings> = { en, ru };

/** Russian if the browser prefers it before English, otherwise English. */
export function pickLanguage(preferred: readonly string[]): Lang {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'ru') return 'ru';
    if (base === 'en') return 'en';
  }
  return 'en';
}

// ---------------------------------------------------------------------------------------------
// The no-JavaScript path's own words (api/noscript). A block of its own, beside the page's
// table above, so the two can change independently; every page of that path takes its words
// from STRINGS and NOSCRIPT_STRINGS only (tests/noscript-browser.test.ts walks the Russian
// pages for any English left).

const noscriptEn = {
  quickExitNote: 'Quick exit opens a neutral site. Without JavaScript it cannot remove this page from the tab history: close the tab when you can.',
  languageLabel: 'Language',
  formTitle: 'Send a request',
  refusedTitle: 'This form was not sent from this site',
  refused: 'For your safety, a form sent from another site is refused. Nothing was saved. Type this site’s address yourself and use the form there.',
  expired: 'This form is too old or damaged, so nothing was sent. Your text is below: check it and send again.',
  alreadySentTitle: 'This request was already sent',
  alreadySent: 'This form was already sent (for example by reloading the page or clicking twice), so no second request was made. Use the passphrase shown when it was first sent; it is not shown again.',
  alreadySentLost: 'If you never saw a passphrase, that request cannot be opened: send a new request with a fresh form.',
  freshForm: 'Open a fresh form',
  followUpTitle: 'Add a message (less protected)',
  followUpWarning: 'Less protected: the server sees this message. To sign it as you, the server derives your keys from the passphrase you type here, for this one request only, and keeps neither the passphrase nor the keys afterwards. Type your passphrase again: it is never put into this page.',
  followUpSend: 'Send message',
  followUpAlreadyTitle: 'This message was already added',
  followUpAlready: 'This form was already sent (for example by reloading the page), so the message was not added a second time. Open your conversation with your passphrase to see it.',
  followUpInvalid: 'Please type your passphrase and write a message (not too long).',
  legacyThread: 'This older request cannot take new messages on this page. Please send a new request.',
  readBusy: 'Too many people are reading replies right now. Please wait a minute and try again.',
  closeTab: 'When you are done, close this tab: the browser keeps what you sent in this tab’s history until then.',
} as const;

export type NoscriptStrings = { [K in keyof typeof noscriptEn]: string };

const noscriptRu: NoscriptStrings = {
  quickExitNote: 'Быстрый выход открывает нейтральный сайт. Без JavaScript эта страница останется в истории вкладки: закройте вкладку, как только сможете.',
  languageLabel: 'Язык',
  formTitle: 'Отправить запрос',
  refusedTitle: 'Эта форма отправлена не с этого сайта',
  refused: 'Для вашей безопасности форма, отправленная с другого сайта, не принимается. Ничего не сохранено. Введите адрес этого сайта сами и воспользуйтесь формой на нём.',
  expired: 'Эта форма устарела или повреждена, поэтому ничего не отправлено. Ваш текст ниже: проверьте его и отправьте снова.',
  alreadySentTitle: 'Этот запрос уже отправлен',
  alreadySent: 'Эта форма уже была отправлена (например, при обновлении страницы или повторном нажатии), поэтому второй запрос не создан. Используйте кодовую фразу, показанную при первой отправке; повторно она не показывается.',
  alreadySentLost: 'Если вы так и не увидели кодовую фразу, тот запрос открыть нельзя: отправьте новый запрос через новую форму.',
  freshForm: 'Открыть новую форму',
  followUpTitle: 'Добавить сообщение (менее защищённо)',
  followUpWarning: 'Менее защищённо: сервер видит это сообщение. Чтобы подписать его от вашего имени, сервер получает ваши ключи из кодовой фразы, которую вы вводите здесь, только для этого одного запроса и потом не хранит ни фразу, ни ключи. Введите кодовую фразу ещё раз: она никогда не вставляется в эту страницу.',
  followUpSend: 'Отправить сообщение',
  followUpAlreadyTitle: 'Это сообщение уже добавлено',
  followUpAlready: 'Эта форма уже была отправлена (например, при обновлении страницы), поэтому сообщение не добавлено второй раз. Откройте переписку с помощью кодовой фразы, чтобы его увидеть.',
  followUpInvalid: 'Введите кодовую фразу и напишите сообщение (не слишком длинное).',
  legacyThread: 'К этому старому запросу нельзя добавлять сообщения на этой странице. Пожалуйста, отправьте новый запрос.',
  readBusy: 'Сейчас слишком много людей читают ответы. Подождите минуту и попробуйте снова.',
  closeTab: 'Когда закончите, закройте эту вкладку: до тех пор браузер хранит отправленное в истории вкладки.',
};

export const NOSCRIPT_STRINGS: Record<Lang, NoscriptStrings> = { en: noscriptEn, ru: noscriptRu };
