/**
 * The dashboard's words, in English and Russian. The language comes from the browser and can
 * be switched; the choice is not stored (nothing of a session outlives the page).
 */
import { en, type Strings } from './i18n/en.ts';
import { ru } from './i18n/ru.ts';

export type Lang = 'en' | 'ru';
export type { Strings };

export const STRINGS: Record<Lang, Strings> = { en, ru };

export const STATUS_LABELS: Record<Lang, Record<string, string>> = {
  en: { new: 'new', triaged: 'triaged', in_progress: 'in progress', waiting: 'waiting', resolved: 'resolved', closed: 'closed' },
  ru: { new: 'новое', triaged: 'разобрано', in_progress: 'в работе', waiting: 'ожидает', resolved: 'решено', closed: 'закрыто' },
};

export const PRIORITY_LABELS: Record<Lang, Record<string, string>> = {
  en: { low: 'low', normal: 'normal', high: 'high', urgent: 'urgent' },
  ru: { low: 'низкий', normal: 'обычный', high: 'высокий', urgent: 'срочный' },
};

/** Russian if the browser prefers it before English, otherwise English (the requester page's rule). */
export { pickLanguage } from '../../crypto/requester-i18n.ts';

export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => String(values[k] ?? ''));
}
