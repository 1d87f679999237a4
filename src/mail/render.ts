import { Liquid, type Template } from 'liquidjs';
import mjml2html from 'mjml';

/** A template as a brand writes it: Liquid in each part; the HTML part is MJML. */
export interface TemplateSource {
  subject: string;
  mjml: string;
  text: string;
}

/** A course as templates see it. */
export interface CourseVariable {
  id: string;
  title: string;
  topics: string[];
  level: string;
  format: string;
  /** e.g. "49.00 USD". */
  price: string;
  owner: string;
}

/** Everything a template may name. */
export interface TemplateVariables {
  brand: { name: string };
  learner: { name: string | null; stage: string | null; segment: string | null; demands: string[] };
  /** From the recommender, in the template's scope. */
  courses: CourseVariable[];
  offer: { code: string | null; text: string } | null;
  /** Joint courses of the campaign's alliance (or of the brand's alliances). */
  partner_courses: CourseVariable[];
  unsubscribe_url: string;
}

export interface RenderedMessage {
  subject: string;
  html: string;
  text: string;
}

/** Which part of a template is broken, on which line (1-based), and how. */
export class TemplateError extends Error {
  constructor(
    readonly part: 'subject' | 'html' | 'text',
    readonly line: number | null,
    readonly detail: string,
  ) {
    super(`${part}${line ? ` line ${line}` : ''}: ${detail}`);
  }
}

interface Compiled {
  subject: Template[];
  mjml: Template[];
  text: Template[];
}

/** Variables with one of everything, so a save-time render goes through every loop body and branch that data would. */
export const SAMPLE_VARIABLES: TemplateVariables = {
  brand: { name: 'Sample brand' },
  learner: { name: 'Sample learner', stage: 'NEW', segment: 'sample', demands: ['python'] },
  courses: [{ id: '00000000-0000-4000-8000-000000000000', title: 'Sample course', topics: ['python'], level: 'BEGINNER', format: 'VIDEO', price: '49.00 USD', owner: 'Sample brand' }],
  offer: { code: 'SAMPLE', text: 'A sample offer' },
  partner_courses: [{ id: '00000000-0000-4000-8000-000000000001', title: 'Sample joint course', topics: ['fitness'], level: 'BEGINNER', format: 'LIVE', price: '99.00 USD', owner: 'Sample partner' }],
  unsubscribe_url: 'https://example.invalid/u/sample',
};

/**
 * Renders email templates: Liquid for variables (liquidjs; HTML escaping on
 * for the HTML part, so a learner's name can never become markup), then
 * MJML for responsive HTML. Parsed templates are kept per template version.
 * MJML never reads files (`mj-include` is ignored) and adds no web fonts.
 */
export class TemplateEngine {
  private readonly html = new Liquid({ outputEscape: 'escape', strictFilters: true, ownPropertyOnly: true, cache: false });
  private readonly plain = new Liquid({ strictFilters: true, ownPropertyOnly: true, cache: false });
  private readonly compiled = new Map<string, Compiled>();

  /**
   * Checks a template as it would be saved: each part parses as Liquid, and
   * the MJML of a render with sample variables passes MJML's strict
   * validation. Throws TemplateError with the part and line.
   */
  async check(source: TemplateSource): Promise<void> {
    const compiled = this.parse(source);
    const subject = await this.plain.render(compiled.subject, SAMPLE_VARIABLES);
    if (subject.trim() === '') throw new TemplateError('subject', 1, 'renders empty');
    const markup = await this.html.render(compiled.mjml, SAMPLE_VARIABLES);
    try {
      const result = await mjml2html(markup, { validationLevel: 'strict', ignoreIncludes: true, fonts: {} });
      const [first] = result.errors ?? [];
      if (first) throw new TemplateError('html', first.line ?? null, first.message);
    } catch (error) {
      if (error instanceof TemplateError) throw error;
      const errors = (error as { errors?: { line?: number; message: string }[] }).errors;
      if (errors?.length) throw new TemplateError('html', errors[0].line ?? null, errors[0].message);
      throw new TemplateError('html', null, (error as Error).message.trim() || 'not valid MJML');
    }
  }

  /** Renders one message; `version` names the template's current text (its id and update time). */
  async render(version: string, source: TemplateSource, variables: TemplateVariables): Promise<RenderedMessage> {
    let compiled = this.compiled.get(version);
    if (!compiled) {
      compiled = this.parse(source);
      if (this.compiled.size >= 1000) this.compiled.delete(this.compiled.keys().next().value as string);
      this.compiled.set(version, compiled);
    }
    const [subject, markup, text] = await Promise.all([
      this.plain.render(compiled.subject, variables),
      this.html.render(compiled.mjml, variables),
      this.plain.render(compiled.text, variables),
    ]);
    const { html } = await mjml2html(markup, { validationLevel: 'skip', ignoreIncludes: true, fonts: {} });
    // A header is one line.
    return { subject: subject.replace(/[\r\n]+/g, ' ').trim().slice(0, 998), html, text };
  }

  private parse(source: TemplateSource): Compiled {
    return {
      subject: parsePart(this.plain, 'subject', source.subject),
      mjml: parsePart(this.html, 'html', source.mjml),
      text: parsePart(this.plain, 'text', source.text),
    };
  }
}

function parsePart(engine: Liquid, part: TemplateError['part'], text: string): Template[] {
  try {
    return engine.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const line = /line:(\d+)/.exec(message);
    throw new TemplateError(part, line ? Number(line[1]) : null, message.replace(/, line:\d+, col:\d+.*$/s, ''));
  }
}
