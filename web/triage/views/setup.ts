/**
 * First-run setup, from the one-time link `npm start` prints on an empty database
 * (`/#setup=<token>`). Everything secret is made in this browser (crypto/v2/first-run.ts): the
 * organisation root key, the first admin's account keys, each first team key, every signature;
 * the server receives public keys, signatures and sealed boxes only (POST /api/v1/setup). The
 * root seed leaves this page only sealed to the admin's own key.
 *
 * The view builds its own section (no markup in index.html): it exists only on a page opened
 * with a setup link. The token is read from the fragment (never sent in a URL, so it reaches
 * no log or Referer), removed from the address bar and history at once, and posted in the body.
 *
 * Trust (docs/THREAT-MODEL.md, "First run"): this page came from the server whose console
 * printed the link; whoever holds the link first sets up the hotline. The root fingerprint is
 * shown at the end to write down: it is what every responder and requester compares later.
 */
import { assessPassphrase } from '../../../crypto/passphrase-policy.ts';
import { makeFirstRunSetup } from '../../../crypto/v2/first-run.ts';
import { $, api, ApiError, primitives, state } from '../shell.ts';

const S = {
  en: {
    title: 'Set up this hotline',
    intro: 'This link was printed on the server\'s console and works once. It creates the organisation, its root key and your admin account. Every key is made here, in this browser; the server never sees your passphrase or any secret key.',
    org: 'Organisation name',
    username: 'Your admin user name',
    usernameHint: '3-40 characters: a-z, 0-9, dot, dash or underscore.',
    passphrase: 'Your passphrase',
    passphraseHint: 'At least 12 characters; several random words are best. It protects the organisation root key: it cannot be reset.',
    confirm: 'Passphrase again',
    teams: 'Teams, one per line',
    teamsHint: 'Requests go to a team. You can add teams later on the Admin screen.',
    submit: 'Create the organisation',
    working: 'Making keys… this takes a few seconds.',
    badUsername: 'The user name must be 3-40 characters: a-z, 0-9, dot, dash or underscore.',
    badOrg: 'Give the organisation a name (up to 200 characters).',
    badTeams: 'Give every team a name of up to 200 characters, at most 20 teams.',
    weak: 'This passphrase is too weak or the two differ: use at least 12 characters, ideally several random words.',
    wrongLink: 'This setup link is wrong. Use the link printed on the server\'s console.',
    already: 'This hotline is already set up. Sign in instead.',
    refused: 'The server refused this page:',
    overHttp: 'This page was loaded over plain http. Open the setup link again at the triage site\'s https:// address, keeping the #setup=… part: the link has not been used up.',
    failed: 'Setup failed:',
    doneTitle: 'The hotline is set up',
    doneIntro: 'Write down this root key fingerprint and keep it somewhere safe. Responders compare it when they sign in, and requesters see it on the request page: if it ever differs, something is wrong.',
    rootFp: 'Root key fingerprint',
    adminFp: 'Your account fingerprint',
    notPersisted: 'The server could not save the root public key to its file; its console says what to set before the next start.',
    next: 'The request page takes requests now. Sign the site manifests on the Admin screen after you sign in.',
    continue: 'Continue to sign in',
  },
  ru: {
    title: 'Настройка горячей линии',
    intro: 'Эта ссылка напечатана в консоли сервера и работает один раз. Она создаёт организацию, её корневой ключ и вашу учётную запись администратора. Все ключи создаются здесь, в этом браузере; сервер не видит ни вашу парольную фразу, ни секретные ключи.',
    org: 'Название организации',
    username: 'Ваше имя пользователя (администратор)',
    usernameHint: '3-40 символов: a-z, 0-9, точка, дефис или подчёркивание.',
    passphrase: 'Ваша парольная фраза',
    passphraseHint: 'Не меньше 12 символов; лучше несколько случайных слов. Она защищает корневой ключ организации и не может быть сброшена.',
    confirm: 'Парольная фраза ещё раз',
    teams: 'Команды, по одной в строке',
    teamsHint: 'Обращения приходят в команду. Команды можно добавить позже на экране администратора.',
    submit: 'Создать организацию',
    working: 'Создаём ключи… это займёт несколько секунд.',
    badUsername: 'Имя пользователя: 3-40 символов: a-z, 0-9, точка, дефис или подчёркивание.',
    badOrg: 'Укажите название организации (до 200 символов).',
    badTeams: 'У каждой команды должно быть название до 200 символов, не больше 20 команд.',
    weak: 'Парольная фраза слишком слабая или две фразы различаются: не меньше 12 символов, лучше несколько случайных слов.',
    wrongLink: 'Эта ссылка настройки неверна. Используйте ссылку из консоли сервера.',
    already: 'Горячая линия уже настроена. Войдите.',
    refused: 'Сервер отказал этой странице:',
    overHttp: 'Эта страница загружена по незащищённому http. Откройте ссылку настройки ещё раз по адресу сайта для сотрудников, начинающемуся с https://, сохранив часть #setup=…: ссылка ещё не использована.',
    failed: 'Настройка не удалась:',
    doneTitle: 'Горячая линия настроена',
    doneIntro: 'Запишите этот отпечаток корневого ключа и храните его в надёжном месте. Сотрудники сверяют его при входе, а обратившиеся видят его на странице обращения: если он когда-нибудь отличается, что-то не так.',
    rootFp: 'Отпечаток корневого ключа',
    adminFp: 'Отпечаток вашей учётной записи',
    notPersisted: 'Сервер не смог сохранить корневой открытый ключ в файл; в его консоли написано, что задать до следующего запуска.',
    next: 'Страница обращений уже принимает обращения. После входа подпишите манифесты сайта на экране администратора.',
    continue: 'Перейти ко входу',
  },
} as const;
type SetupStrings = { [K in keyof (typeof S)['en']]: string };

const TOKEN = /^#setup=([A-Za-z0-9_-]{16,100})$/;
const USERNAME = /^[a-z0-9._-]{3,40}$/;

/**
 * The token of a setup link, removed from the address bar and history at once; '' for a
 * `#setup` fragment that holds no valid token; null when this is not a setup link.
 */
export function readSetupToken(): string | null {
  if (!location.hash.startsWith('#setup')) return null;
  const match = TOKEN.exec(location.hash);
  history.replaceState(null, '', location.pathname + location.search);
  return match ? match[1]! : '';
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { id?: string; text?: string; cls?: string } = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.id) node.id = props.id;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.cls) node.className = props.cls;
  node.append(...children);
  return node;
}

function field(id: string, label: string, input: HTMLInputElement | HTMLTextAreaElement, hint?: string): Node[] {
  const l = el('label', { text: label });
  l.htmlFor = id;
  input.id = id;
  const out: Node[] = [l];
  if (hint) {
    const h = el('p', { id: `${id}-hint`, cls: 'hint', text: hint });
    input.setAttribute('aria-describedby', h.id);
    out.push(h);
  }
  out.push(input);
  return out;
}

function input(type: string, autocomplete: string): HTMLInputElement {
  const i = document.createElement('input');
  i.type = type;
  i.setAttribute('autocomplete', autocomplete);
  i.required = true;
  return i;
}

/** A slug from a team name: lower-case a-z 0-9 and dashes, else `team-N`. */
export function teamSlug(name: string, index: number, taken: Set<string>): string {
  let slug = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
  if (slug === '' || taken.has(slug)) slug = `team-${index + 1}`;
  taken.add(slug);
  return slug;
}

/** Hides every other screen and shows the setup form (the page's own sections stay untouched). */
export function showSetup(token: string): void {
  const s: SetupStrings = S[state.lang];
  $('boot').hidden = true;
  for (const section of document.querySelectorAll<HTMLElement>('main > section')) section.hidden = true;
  // The "not set up" notice is true but beside the point on the page that does the setup.
  const notice = document.getElementById('not-set-up');
  if (notice) notice.hidden = true;

  const org = input('text', 'organization');
  const username = input('text', 'username');
  username.autocapitalize = 'none';
  username.spellcheck = false;
  const pw = input('password', 'new-password');
  const confirm = input('password', 'new-password');
  const teams = document.createElement('textarea');
  teams.rows = 3;
  teams.value = state.lang === 'ru' ? 'Юридическая помощь' : 'Legal aid';
  const submit = el('button', { id: 'setup-submit', text: s.submit });
  submit.type = 'submit';
  const status = el('p', { id: 'setup-status', cls: 'status' });
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  const form = el('form', { id: 'setup-form' },
    ...field('setup-org', s.org, org),
    ...field('setup-username', s.username, username, s.usernameHint),
    ...field('setup-passphrase', s.passphrase, pw, s.passphraseHint),
    ...field('setup-confirm', s.confirm, confirm),
    ...field('setup-teams', s.teams, teams, s.teamsHint),
    submit, status);
  form.noValidate = true;
  const title = el('h1', { id: 'setup-title', text: s.title });
  title.tabIndex = -1;
  const section = el('section', { id: 'setup' }, title, el('p', { text: s.intro }), form);
  section.setAttribute('aria-labelledby', 'setup-title');
  document.querySelector('main')!.append(section);
  title.focus();

  const fail = (text: string, focus?: HTMLElement) => {
    status.textContent = text;
    status.classList.add('error');
    focus?.focus();
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    status.classList.remove('error');
    const name = org.value.trim();
    const user = username.value.trim().toLowerCase();
    const teamNames = teams.value.split('\n').map((t) => t.trim()).filter((t) => t !== '');
    if (!token) return fail(s.wrongLink);
    if (name.length < 1 || name.length > 200) return fail(s.badOrg, org);
    if (!USERNAME.test(user)) return fail(s.badUsername, username);
    if (teamNames.length > 20 || teamNames.some((t) => t.length > 200)) return fail(s.badTeams, teams);
    if (!assessPassphrase(pw.value, user, confirm.value).ok) return fail(s.weak, pw);
    const passphrase = pw.value;
    pw.value = '';
    confirm.value = '';
    void run({ token, name, user, passphrase, teamNames });
  });

  async function run(a: { token: string; name: string; user: string; passphrase: string; teamNames: string[] }): Promise<void> {
    submit.disabled = true;
    status.textContent = s.working;
    try {
      const p = await primitives();
      const taken = new Set<string>();
      const made = await makeFirstRunSetup(p, {
        token: a.token, organisationName: a.name, username: a.user, passphrase: a.passphrase,
        teams: a.teamNames.map((teamName, i) => ({ slug: teamSlug(teamName, i, taken), name: teamName })),
      });
      const answer = await api<{ rootFingerprint: string; rootKeyPersisted: boolean }>('POST', '/api/v1/setup', made.body);
      // The fingerprint shown is the one computed HERE from the key made here; the server's
      // answer only has to agree with it.
      if (answer.rootFingerprint !== made.rootFingerprint) throw new ApiError(0, 'mismatch', '');
      done(made.rootFingerprint, made.adminFingerprint, answer.rootKeyPersisted);
    } catch (err) {
      submit.disabled = false;
      // "Wrong link" only for a token the server did not print: a refused origin (a page
      // opened over http while HAVEN_BEHIND_TLS is true) is also 403, and blaming the link
      // there sends the operator hunting for another one.
      if (err instanceof ApiError && err.code === 'setup_link_wrong') fail(s.wrongLink);
      else if (err instanceof ApiError && err.code === 'already_set_up') fail(s.already);
      else if (err instanceof ApiError && err.code === 'forbidden') {
        fail([s.refused, err.detail || err.code, ...(location.protocol === 'http:' && !location.hostname.endsWith('.onion') ? [s.overHttp] : [])].join(' '));
      } else fail(err instanceof ApiError ? `${s.failed} ${err.detail || err.code}` : s.failed);
    }
  }

  function done(rootFp: string, adminFp: string, persisted: boolean): void {
    const heading = el('h1', { id: 'setup-done-title', text: s.doneTitle });
    heading.tabIndex = -1;
    const fp = el('p', { id: 'setup-root-fp', cls: 'fingerprint', text: rootFp });
    const go = el('button', { id: 'setup-continue', text: s.continue });
    go.type = 'button';
    // A fresh load: the page now carries the new root key, which the dashboard pins.
    go.addEventListener('click', () => location.replace(location.pathname));
    section.replaceChildren(
      heading,
      el('p', { text: s.doneIntro }),
      el('h2', { text: s.rootFp }), fp,
      el('h2', { text: s.adminFp }), el('p', { id: 'setup-admin-fp', cls: 'fingerprint', text: adminFp }),
      ...(persisted ? [] : [el('p', { cls: 'error', text: s.notPersisted })]),
      el('p', { text: s.next }),
      go,
    );
    heading.focus();
  }
}
