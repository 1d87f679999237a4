import type { Logger } from 'pino';
import { BrandKind, CourseFormat, CourseLevel, CourseStatus } from './entities/enums';
import type { Services } from './services';
import { Principal } from './tenancy/principal';
import type { RunAs } from './tenancy/run-as';

interface DemoCourse {
  title: string;
  topics: string[];
  level: CourseLevel;
  format: CourseFormat;
  amountMinor: number;
  currency: string;
  published: boolean;
}

interface DemoBrand {
  slug: string;
  name: string;
  kind: BrandKind;
  description: string;
  resources: Record<string, number>;
  courses: DemoCourse[];
}

export const DEMO_BRANDS: DemoBrand[] = [
  {
    slug: 'summit-academy',
    name: 'Summit Academy',
    kind: BrandKind.KNOWLEDGE_PLATFORM,
    description: 'Online courses in data, business and wellbeing, in English and Chinese.',
    resources: { content: 0.9, technology: 0.7, audience: 0.6, channels: 0.4, venue: 0.1, capital: 0.3 },
    courses: [
      { title: 'Data Analysis with Python', topics: ['python', 'data analysis'], level: CourseLevel.INTERMEDIATE, format: CourseFormat.VIDEO, amountMinor: 19900, currency: 'USD', published: true },
      { title: '数据可视化入门', topics: ['数据可视化', 'data visualization'], level: CourseLevel.BEGINNER, format: CourseFormat.VIDEO, amountMinor: 9900, currency: 'CNY', published: true },
      { title: 'Sports Nutrition Basics', topics: ['nutrition', 'fitness'], level: CourseLevel.BEGINNER, format: CourseFormat.ARTICLE, amountMinor: 4900, currency: 'USD', published: false },
    ],
  },
  {
    slug: 'harbor-fc',
    name: 'Harbor City FC',
    kind: BrandKind.SPORTS_ORGANIZATION,
    description: 'A professional football club with a youth academy and a stadium.',
    resources: { content: 0.2, technology: 0.2, audience: 0.9, channels: 0.7, venue: 0.95, capital: 0.6 },
    courses: [
      { title: 'Youth Football Coaching Fundamentals', topics: ['football', 'coaching'], level: CourseLevel.BEGINNER, format: CourseFormat.LIVE, amountMinor: 29900, currency: 'USD', published: true },
      { title: 'Matchday Fitness Plan', topics: ['fitness', 'football'], level: CourseLevel.INTERMEDIATE, format: CourseFormat.VIDEO, amountMinor: 3900, currency: 'USD', published: true },
    ],
  },
];

/** On an empty database, creates the demo brands and their courses through the normal services, as Allied itself. */
export async function seedDemo(app: { services: Services; runAs: RunAs }, log: Logger): Promise<boolean> {
  const { services, runAs } = app;
  const empty = await runAs(Principal.system(null, 'demo-seed'), (ctx) => services.brands.none(ctx));
  if (!empty) return false;
  for (const demo of DEMO_BRANDS) {
    const { courses, ...input } = demo;
    const brand = await runAs(Principal.system(null, 'demo-seed'), (ctx) => services.brands.create(ctx, input));
    await runAs(Principal.system(brand.id, 'demo-seed'), async (ctx) => {
      for (const c of courses) {
        const course = await services.courses.create(ctx, {
          title: c.title,
          topics: c.topics,
          level: c.level,
          format: c.format,
          price: { amountMinor: c.amountMinor, currency: c.currency },
        });
        if (c.published) await services.courses.update(ctx, course.id, { status: CourseStatus.PUBLISHED });
      }
    });
  }
  log.info({ brands: DEMO_BRANDS.map((b) => b.slug) }, 'demo data created');
  return true;
}
