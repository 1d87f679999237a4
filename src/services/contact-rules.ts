import { textProblem } from '../limits/text';
import { ContactConsent } from '../entities/enums';

export const MAX_EMAIL_CHARS = 254;
// Deliberately plain: a local part and a domain with a dot, no spaces, quotes, brackets or separators
// that could smuggle a second recipient or a header into a message.
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]{2,}$/;

export interface ContactStatement {
  email: string;
  name?: string | null;
  consent?: ContactConsent | null;
  source?: string | null;
}

/** What is wrong with a contact as given, or null. Never echoes the address. */
export function contactProblem(c: ContactStatement): string | null {
  if (typeof c.email !== 'string' || c.email.length > MAX_EMAIL_CHARS || !EMAIL.test(c.email.trim())) {
    return `contact.email must be an email address of at most ${MAX_EMAIL_CHARS} characters.`;
  }
  if (c.name != null) {
    const problem = textProblem(c.name);
    if (problem || c.name.trim() === '' || c.name.length > 200) return `contact.name must be 1..200 characters of text.`;
  }
  if (c.consent != null && !Object.values(ContactConsent).includes(c.consent)) return 'contact.consent must be OPTED_IN or OPTED_OUT.';
  if (c.source != null && (c.source.trim() === '' || c.source.length > 100 || textProblem(c.source))) return 'contact.source must be 1..100 characters of text.';
  return null;
}

/** The address as stored: trimmed, its domain in lower case (the local part is the mailbox owner's). */
export function normaliseEmail(email: string): string {
  const trimmed = email.trim();
  const at = trimmed.lastIndexOf('@');
  return trimmed.slice(0, at) + '@' + trimmed.slice(at + 1).toLowerCase();
}
