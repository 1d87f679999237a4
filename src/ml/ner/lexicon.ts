/**
 * The gazetteers and phrase lists of demand extraction, as data: what the
 * weakly-labelled corpus fills its sentences from, what the pattern
 * baseline matches, and what the normaliser maps to values.
 *
 * Conventions:
 * - A line of a synonym list is one concept: its names separated by "|",
 *   the first the canonical name `normalise` returns. A name's language is
 *   its script: one with a Han character is Chinese, any other English
 *   (or Latin-script: "Python", "CFA", "NBA").
 * - No phrase stands under two entity types (case-folded); the unit tests
 *   check it, so that the corpus never labels one string two ways.
 * - Names avoid common English words ("will", "live in", "sat"), so a
 *   case-insensitive match does not fire on ordinary prose.
 *
 * Sources: lists written for Allied, the topics of the demo catalog
 * (src/demo.ts) and of the benchmark's synthetic brands (bench/ml).
 */

import { CourseFormat, CourseLevel } from '../../entities/enums';

const lines = (block: string): string[] =>
  block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));

const words = (block: string): string[] => block.split(/\s+/).filter((w) => w.length > 0);

// ---------------------------------------------------------------------------
// TOPIC: what a learner wants to learn, by domain.

export const TOPICS: Readonly<Record<string, readonly string[]>> = {
  programming: lines(`
    Python|python3|py|Python编程|Python语言|派森
    Java|Java编程|Java开发
    JavaScript|js|前端JS|JavaScript编程
    TypeScript|TS语言
    C++|cpp|C加加
    C language|C语言|C programming
    C#|csharp|C sharp
    Golang|Go语言|Go programming
    Rust|Rust语言
    R language|R语言|R programming
    SQL|SQL语句|SQL查询
    MySQL
    PostgreSQL|Postgres
    web development|web dev|网页开发|Web开发
    front-end development|frontend|front end|前端|前端开发
    back-end development|backend|back end|后端|后端开发
    full-stack development|full stack|全栈|全栈开发
    React|React.js|reactjs
    Vue|Vue.js|vue3
    Node.js|nodejs
    Swift|Swift编程
    iOS development|iOS开发|ios dev
    Android development|安卓开发|Android开发
    Kotlin
    Flutter
    mini programs|小程序|小程序开发|微信小程序
    algorithms|算法|刷题
    data structures|数据结构
    Linux|Linux命令行|linux运维
    Docker|容器化
    Kubernetes|k8s
    cloud computing|云计算
    DevOps
    cybersecurity|网络安全|信息安全
    Git|git版本控制
    game development|游戏开发|Unity游戏开发|gamedev
    programming|编程|coding|写代码
    kids coding|少儿编程|Scratch编程|Scratch programming
    Excel|Excel表格|Excel函数|excel技巧
    PowerPoint|PPT|幻灯片制作
    office skills|办公软件|Office办公
    software testing|软件测试|自动化测试
  `),
  data: lines(`
    data analysis|数据分析|data analytics|数据分析师
    data science|数据科学
    data visualization|数据可视化|dataviz|data viz
    machine learning|ML|机器学习
    deep learning|深度学习
    artificial intelligence|AI|人工智能
    large language models|LLM|LLMs|大模型|大语言模型
    prompt engineering|提示词工程|prompt工程
    AI art|AI绘画|Midjourney|Stable Diffusion
    ChatGPT|GPT
    natural language processing|NLP|自然语言处理
    computer vision|计算机视觉
    statistics|统计学|stats
    Tableau
    Power BI|PowerBI
    pandas
    big data|大数据|Hadoop
    business analytics|商业分析
    data engineering|数据工程
  `),
  languages: lines(`
    English|英语|英文
    spoken English|英语口语|口语|English speaking|conversational English
    IELTS|雅思
    TOEFL|托福
    CET-4|英语四级|CET4|四级英语
    CET-6|英语六级|CET6|六级英语
    business English|商务英语
    English grammar|英语语法|grammar
    English vocabulary|背单词|英语词汇|vocab
    pronunciation|发音|英语音标|phonetics
    Japanese|日语|日文
    JLPT|日语N1|日语N2|日语能力考
    Korean|韩语|韩文
    French|法语
    German|德语
    Spanish|西班牙语
    Russian|俄语
    Italian|意大利语
    Arabic|阿拉伯语
    Portuguese|葡萄牙语
    Mandarin|普通话|汉语|Chinese language
    Cantonese|粤语|广东话
    sign language|手语
    languages|外语|语言学习|language learning
  `),
  finance: lines(`
    finance|金融|金融学
    personal finance|理财|个人理财|money management
    investing|投资|价值投资|value investing|investment
    stock market|股票|炒股|stocks|A股|美股
    funds|基金|基金定投|index funds|指数基金
    crypto|cryptocurrency|加密货币|比特币|bitcoin
    blockchain|区块链
    accounting|会计|财务会计
    CPA|注册会计师|注会
    CFA
    FRM
    financial analysis|财务分析|财报分析|financial statements
    tax|个税|税务|taxes
    insurance|保险|保险规划
    real estate|房产投资|买房|property investing
    economics|经济学|宏观经济|macroeconomics|microeconomics
    options trading|期权|期货|futures trading
    quantitative trading|量化交易|量化投资|quant
    corporate finance|公司金融
  `),
  business: lines(`
    marketing|营销|市场营销
    digital marketing|数字营销|网络营销
    social media marketing|新媒体运营|社媒运营|social media
    content marketing|内容营销|内容运营
    SEO|搜索引擎优化
    paid advertising|广告投放|信息流广告|paid ads
    copywriting|文案|写文案|copy writing
    branding|品牌营销|品牌建设|brand strategy
    e-commerce|电商|电商运营|ecommerce
    cross-border e-commerce|跨境电商
    live-stream selling|直播带货|带货
    short video|短视频|短视频运营|抖音运营
    private traffic|私域|私域运营|社群运营
    product management|产品经理|产品管理
    project management|项目管理|PMP
    leadership|领导力|team management|团队管理
    entrepreneurship|创业|startups
    sales|销售|销售技巧
    negotiation|谈判|谈判技巧
    public speaking|演讲|公众演讲|表达力
    communication skills|沟通技巧|沟通能力
    career development|职业规划|求职|job hunting
    resume writing|写简历|简历|resume
    interview skills|面试|面试技巧|job interviews
    human resources|人力资源|HR|招聘
    time management|时间管理
    productivity|效率提升|GTD
    MBA
    business strategy|商业模式|战略管理|strategy
    law|法律|法学|legal studies
    contract law|合同法
    legal exam|法考|司法考试
    psychology|心理学
    counselling|心理咨询|心理咨询师
    emotional intelligence|情商|EQ
    philosophy|哲学
    sociology|社会学
  `),
  fitness: lines(`
    fitness|健身|workout|workouts|锻炼身体
    strength training|力量训练|撸铁|weightlifting|举重
    HIIT|燃脂训练|间歇训练
    weight loss|减肥|减脂|瘦身|losing weight
    muscle building|增肌|bodybuilding|健美
    pilates|普拉提
    stretching|拉伸|柔韧性|mobility
    core training|核心训练|练腹肌|abs
    calisthenics|自重训练|徒手训练
    CrossFit
    nutrition|营养|营养学|sports nutrition|运动营养
    diet|饮食|饮食管理|健康饮食
    posture|体态|体态矫正|圆肩驼背
    sports rehab|康复训练|运动康复|rehab
    boxing|拳击|搏击|kickboxing
    martial arts|武术|功夫|kung fu
    tai chi|太极|太极拳
    swimming|游泳|自由泳|蛙泳|freestyle swimming
    cycling|骑行|公路车
    rock climbing|攀岩|bouldering
    skiing|滑雪|单板滑雪|snowboarding
    skateboarding|滑板
    tennis|网球
    badminton|羽毛球
    table tennis|乒乓球|ping pong
    golf|高尔夫
    volleyball|排球
    dance|舞蹈|跳舞|街舞|hip hop dance
    ballet|芭蕾
    jump rope|跳绳
    hiking|徒步|登山|mountaineering
    camping|露营
    fishing|钓鱼|路亚
    e-sports|电竞|esports
  `),
  running: lines(`
    running|跑步|jogging|慢跑
    marathon|马拉松|全马|half marathon|半马
    trail running|越野跑
    sprinting|短跑|sprint training
    running form|跑姿|跑步姿势
    interval running|间歇跑|interval training
    triathlon|铁人三项
  `),
  football: lines(`
    football|足球|soccer
    football tactics|足球战术|战术分析|tactics
    goalkeeping|守门员训练|门将训练|goalkeeper training
    youth football|青训|少儿足球|youth soccer
    coaching|执教|coaching skills
    futsal|五人制足球
    refereeing|裁判培训|足球裁判
  `),
  basketball: lines(`
    basketball|篮球
    shooting|投篮|投篮技巧|jump shot|shooting form
    dribbling|运球|控球|ball handling
    basketball tactics|篮球战术
    youth basketball|少儿篮球
  `),
  yoga: lines(`
    yoga|瑜伽
    hatha yoga|哈他瑜伽
    vinyasa|流瑜伽|vinyasa flow
    yin yoga|阴瑜伽
    aerial yoga|空中瑜伽
    prenatal yoga|孕期瑜伽|孕妇瑜伽
    meditation|冥想|静心
    mindfulness|正念
    breathwork|呼吸法|呼吸训练|breathing exercises
  `),
  cooking: lines(`
    cooking|烹饪|做饭|厨艺
    baking|烘焙|做蛋糕|bread baking
    home cooking|家常菜|中餐
    Sichuan cuisine|川菜
    Cantonese cuisine|粤菜
    Western cooking|西餐
    desserts|甜点|甜品|pastry
    coffee|咖啡|手冲咖啡|pour-over coffee
    latte art|咖啡拉花|拉花
    tea ceremony|茶艺|茶道
    wine tasting|品酒|葡萄酒
    cocktails|调酒|bartending|mixology
    meal prep|减脂餐|健康餐|meal planning
    vegetarian cooking|素食
  `),
  music: lines(`
    music|音乐
    piano|钢琴
    guitar|吉他|弹吉他
    ukulele|尤克里里
    violin|小提琴
    drums|架子鼓|drumming
    singing|唱歌|声乐|vocals
    music theory|乐理
    music production|编曲|音乐制作|beat making
    songwriting|作曲|写歌|作词
    erhu|二胡
    guzheng|古筝
    DJing|打碟|DJ
  `),
  photography: lines(`
    photography|摄影|拍照技巧
    mobile photography|手机摄影|iPhone photography
    portrait photography|人像摄影
    landscape photography|风光摄影
    street photography|街拍|扫街
    photo editing|修图|后期修图|调色|Lightroom
    Photoshop|PS
    video editing|视频剪辑|剪辑|Premiere|剪映|Final Cut
    filmmaking|电影制作|拍电影|film making
    vlogging|Vlog|vlog拍摄
    drone photography|航拍|无人机航拍
  `),
  literature: lines(`
    classic literature|经典文学|文学经典|名著|classics
    literature|文学
    Chinese classics|国学|古文|文言文
    poetry|诗歌|古诗词|诗词|唐诗宋词
    modern literature|现代文学
    world literature|外国文学|世界名著
    creative writing|创意写作|写作|写小说|writing|fiction writing
    reading|阅读|读书方法|阅读理解
    Dream of the Red Chamber|红楼梦|红学
    speed reading|速读|快速阅读
  `),
  history: lines(`
    history|历史|历史学
    Chinese history|中国历史|中国史|中国通史
    world history|世界史|世界历史
    ancient history|古代史|罗马史|Roman history
    modern history|近代史|现代史
    art history|艺术史|美术史
    archaeology|考古
  `),
  design: lines(`
    design|设计
    graphic design|平面设计
    UI design|UI设计|UI
    UX design|UX|用户体验|交互设计|interaction design
    product design|产品设计
    interior design|室内设计|软装
    fashion design|服装设计
    fashion styling|穿搭
    Figma
    illustration|插画|板绘|procreate|digital illustration
    drawing|素描|画画|sketching
    painting|油画|水彩|watercolor
    calligraphy|书法|练字|硬笔书法|handwriting
    architecture|建筑|建筑设计
    3D modeling|3D建模|建模|Blender|C4D
    animation|动画|motion graphics|After Effects
    logo design|logo设计|标志设计
    typography|字体设计|排版设计
  `),
  parenting: lines(`
    parenting|育儿|亲子|家庭教育|养娃
    early childhood education|早教|幼儿教育|early education
    child psychology|儿童心理|儿童心理学
    picture books|绘本|亲子阅读|绘本阅读
    homework help|辅导作业|作业辅导
    baby sleep|宝宝睡眠|哄睡|sleep training
    breastfeeding|母乳喂养
    kids English|少儿英语|英语启蒙|幼儿英语
    teen parenting|青春期|青春期沟通
  `),
  exams: lines(`
    gaokao|高考|高考冲刺
    kaoyan|考研|postgraduate entrance exam
    kaoyan English|考研英语
    kaoyan math|考研数学
    kaoyan politics|考研政治
    civil service exam|公务员考试|考公|国考|省考|申论|行测
    teacher certification|教资|教师资格证
    zhongkao|中考
    GRE
    GMAT
    SAT
    math|数学|maths|mathematics
    calculus|微积分|高数|高等数学
    linear algebra|线性代数
    probability|概率论
    physics|物理
    chemistry|化学
    biology|生物
    Olympiad math|奥数|数学竞赛
    driving test|驾考|考驾照
  `),
  lifestyle: lines(`
    sleep|睡眠|改善睡眠|insomnia
    mental health|心理健康
    emotional management|情绪管理
    skincare|护肤
    makeup|化妆|美妆
    gardening|园艺|养花|种菜
    pet care|养猫|养狗|宠物|dog training|训狗
    travel|旅行|旅游攻略|travel planning
    chess|国际象棋
    weiqi|围棋|Go game
    xiangqi|象棋|中国象棋
    magic tricks|魔术
    knitting|编织|钩针|crochet
    woodworking|木工
    first aid|急救|CPR
    traditional Chinese medicine|中医|TCM|中医养生
    wellness|养生
    astronomy|天文
    debate|辩论
    memory techniques|记忆法|记忆力|memory palace
  `),
};

// ---------------------------------------------------------------------------
// LEVEL, FORMAT: by the contract's value each maps to.

export const LEVEL_PHRASES: Readonly<Record<CourseLevel, readonly string[]>> = {
  [CourseLevel.BEGINNER]: [
    ...words('零基础 没基础 没有基础 入门 入门级 新手 小白 纯小白 初学者 初级 基础 基础班 从零开始 零基础入门 刚入门 启蒙 初阶 从入门到精通 基础薄弱 菜鸟'),
    'beginner', 'beginners', 'beginner-friendly', 'beginner level', 'entry-level', 'entry level', 'intro', 'introductory',
    'basics', 'basic', 'for dummies', 'from scratch', 'complete beginner', 'total beginner', 'absolute beginner',
    'newbie', 'noob', 'novice', '101', 'level 1', 'first-timer',
  ],
  [CourseLevel.INTERMEDIATE]: [
    ...words('进阶 中级 中阶 有基础 有一定基础 有点基础 提高班 进阶版 进阶提升 熟练 二阶'),
    'intermediate', 'mid-level', 'mid level', 'some experience', 'next level', 'level 2', 'improver',
    'upper-intermediate', 'not a beginner', 'beyond the basics',
  ],
  [CourseLevel.ADVANCED]: [
    ...words('高级 高阶 精通 大神级 专业级 资深 高手 深入 硬核'),
    'advanced', 'expert', 'expert-level', 'pro level', 'professional level', 'deep dive', 'in-depth', 'hardcore',
    'level 3', 'master level',
  ],
};

export const FORMAT_PHRASES: Readonly<Record<CourseFormat, readonly string[]>> = {
  [CourseFormat.VIDEO]: [
    ...words('视频 视频课 录播 录播课 网课 看视频 视频版 短视频课'),
    'video', 'videos', 'video course', 'recorded', 'pre-recorded', 'recorded lessons', 'on-demand', 'video lessons', 'youtube-style',
  ],
  [CourseFormat.AUDIO]: [
    ...words('音频 音频课 播客 听书 有声书 电台 音频版'),
    'audio', 'audio course', 'podcast', 'podcasts', 'audiobook', 'audio only', 'listen-only',
  ],
  [CourseFormat.ARTICLE]: [
    ...words('图文 文章 电子书 文字版 讲义 PDF 专栏 文字稿 图文版'),
    'article', 'articles', 'text', 'ebook', 'e-book', 'written guide', 'reading material', 'newsletter', 'blog posts', 'text-based', 'study notes',
  ],
  [CourseFormat.LIVE]: [
    ...words('直播 直播课 线上直播 在线直播 1对1 一对一 线下 线下课 面授 小班课 陪练 连麦'),
    'live', 'live class', 'live session', 'livestream', 'live stream', 'webinar', 'zoom class', 'one-on-one',
    '1:1', '1-on-1', 'in-person', 'in person', 'workshop', 'small group', 'face to face',
  ],
  [CourseFormat.BUNDLE]: [
    ...words('套餐 合集 全套 系列课 打包 套课 大礼包 全家桶 年卡 会员'),
    'bundle', 'package', 'full series', 'all-in-one', 'complete set', 'membership', 'course pack', 'season pass',
  ],
};

// ---------------------------------------------------------------------------
// TIME: pieces a time phrase is composed of, and whole phrases by the slot
// the normaliser gives them (the tests hold the two to each other).

/** Weekend days and the weekend itself. */
export const TIME_WEEKEND_ZH = words('周末 周六 周日 星期六 星期天 星期日 礼拜六 礼拜天 双休日 每周末');
/** Working days, one day or all. */
export const TIME_WEEKDAY_ZH = words('工作日 周一到周五 上班日 周中 平日 周一 周二 周三 周四 周五 星期三 每周二 每周四');
export const TIME_EVERY_DAY_ZH = words('每天 每日 天天');

/** Parts of the day, by the kind the normaliser reads them as. */
export const TIME_DAYPART_ZH = {
  evening: words('晚上 晚间 夜里 傍晚'),
  morning: words('早上 上午 早晨 清晨'),
  lunch: words('中午 午休 午休时间'),
  daytime: words('白天 下午'),
} as const;

export const TIME_STANDALONE_ZH: Readonly<Record<string, readonly string[]>> = {
  WEEKDAY_EVENING: words('下班后 下班以后 下班之后 工作日晚上 平时晚上'),
  WEEKDAY_MORNING: words('上班前'),
  EVENING: words('晚上 晚饭后 睡前 深夜 半夜 每晚 夜里'),
  MORNING: words('早上 早起 清晨 一大早'),
  LUNCH: words('中午 午休 午饭时间 午休时间'),
  DAILY: words('每天 每日 天天 每天半小时 每天一小时 每天二十分钟 每天15分钟'),
  FLEXIBLE: words('随时 有空的时候 碎片时间 随时随地 时间灵活 时间不固定 空闲时间 看心情 有空就学 不限时间'),
  WEEKEND: words('周末 双休日 周六日'),
};

export const TIME_PHRASES_EN: Readonly<Record<string, readonly string[]>> = {
  WEEKEND: ['weekends', 'weekend', 'the weekend', 'on weekends', 'saturdays', 'sundays', 'saturday', 'sunday', 'weekend mornings', 'saturday mornings', 'sunday afternoons', 'saturday afternoon', 'every weekend'],
  WEEKEND_EVENING: ['weekend evenings', 'saturday nights', 'sunday evenings', 'saturday evening', 'friday nights', 'friday night'],
  WEEKDAY_EVENING: ['weekday evenings', 'weeknights', 'weeknight', 'after work', 'tuesday evenings', 'wednesday nights', 'monday evenings', 'thursday night', 'evenings after work'],
  WEEKDAY_MORNING: ['weekday mornings', 'before work', 'monday mornings', 'early weekday mornings'],
  WEEKDAY_DAYTIME: ['weekdays', 'during the week', 'monday to friday', 'mon-fri', 'workdays', 'weekday afternoons', 'during work hours', 'office hours'],
  EVENING: ['evenings', 'evening', 'in the evening', 'at night', 'nights', 'tonight', 'after dinner', 'before bed', 'bedtime', 'late at night', 'every evening', 'late evenings'],
  MORNING: ['mornings', 'morning', 'in the morning', 'early morning', 'early mornings', 'before breakfast', 'every morning'],
  LUNCH: ['lunch', 'lunchtime', 'lunch break', 'during lunch', 'at noon', 'noon', 'midday', 'my lunch break'],
  DAILY: ['daily', 'every day', 'everyday', 'each day', '30 minutes a day', '15 min a day', 'an hour a day', 'a few minutes a day', '20 mins a day'],
  FLEXIBLE: ['anytime', 'any time', 'whenever', 'flexible', 'flexible hours', 'self-paced', 'on my own schedule', 'at my own pace', 'in my spare time', 'whenever i have time', 'on the go', 'in my free time'],
};

// ---------------------------------------------------------------------------
// BUDGET: currencies and the words around an amount.

export const CURRENCIES = ['CNY', 'USD', 'EUR', 'GBP', 'HKD', 'JPY'] as const;
export type Currency = (typeof CURRENCIES)[number];

/** Digits after the decimal point of each currency's minor unit. */
export const MINOR_DIGITS: Readonly<Record<Currency, number>> = { CNY: 2, USD: 2, EUR: 2, GBP: 2, HKD: 2, JPY: 0 };

/** How a currency is written before an amount (symbols) and after it (words). */
export const CURRENCY_MARKS: Readonly<Record<Currency, { before: readonly string[]; after: readonly string[] }>> = {
  CNY: { before: ['¥', '￥', 'RMB', 'CNY'], after: ['元', '块', '块钱', '元人民币', '人民币', 'rmb', 'RMB', 'CNY', 'yuan', 'kuai'] },
  USD: { before: ['$', 'US$', 'USD'], after: ['美元', '美金', '刀', 'dollars', 'dollar', 'bucks', 'USD', 'usd'] },
  EUR: { before: ['€'], after: ['欧元', '欧', 'euros', 'euro', 'EUR'] },
  GBP: { before: ['£'], after: ['英镑', 'pounds', 'quid', 'GBP'] },
  HKD: { before: ['HK$'], after: ['港币', '港元', 'HKD'] },
  JPY: { before: [], after: ['日元', '円', 'yen', 'JPY'] },
};

/** Words that make an amount a ceiling, a floor or an estimate, before or after it. */
export const BUDGET_BOUNDS = {
  zh: {
    maxBefore: words('不超过 最多 别超过 不要超过 控制在 顶多 不高于 低于 少于 不到'),
    maxAfter: words('以内 以下 之内 内 封顶'),
    minBefore: words('至少 不低于 最少 起码'),
    minAfter: words('以上 起 起步'),
    approxBefore: words('大概 大约 约 差不多'),
    approxAfter: words('左右 上下 出头'),
    range: ['-', '~', '到', '至', '～', '—'],
  },
  en: {
    maxBefore: ['under', 'below', 'less than', 'no more than', 'at most', 'max', 'up to', 'within', 'not more than', 'cheaper than', '<'],
    maxAfter: ['or less', 'max', 'tops', 'or under', 'at most'],
    minBefore: ['over', 'above', 'more than', 'at least', 'min'],
    minAfter: ['or more', 'plus', 'and up', '+'],
    approxBefore: ['around', 'about', 'roughly', 'approximately', 'approx', '~'],
    approxAfter: ['or so', 'ish', '-ish'],
    range: ['-', 'to', '~', '–'],
  },
} as const;

/** A budget of nothing. */
export const FREE_PHRASES = ['免费', '免费的', '不要钱', '白嫖', 'free', 'for free', 'free of charge'];

/** Words that announce a budget, after which a bare number is an amount. */
export const BUDGET_CUES = ['预算', '价位', '价格', '预算是', '预算在', 'budget', 'budget is', 'my budget is', 'price range'];

/** Chinese numerals: digits (with the financial forms) and the units. */
export const CHINESE_DIGITS: Readonly<Record<string, number>> = {
  零: 0, 〇: 0, 一: 1, 壹: 1, 二: 2, 贰: 2, 两: 2, 三: 3, 叁: 3, 四: 4, 肆: 4, 五: 5, 伍: 5,
  六: 6, 陆: 6, 七: 7, 柒: 7, 八: 8, 捌: 8, 九: 9, 玖: 9,
};
export const CHINESE_UNITS: Readonly<Record<string, number>> = {
  十: 10, 拾: 10, 百: 100, 佰: 100, 千: 1000, 仟: 1000, 万: 10_000, 萬: 10_000, 亿: 100_000_000,
};

// ---------------------------------------------------------------------------
// PERSON

export const CHINESE_SURNAMES = [
  ...words(`王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹
    彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石 廖
    贾 夏 韦 付 方 白 邹 孟 熊 秦 邱 江 尹 薛 闫 段 雷 侯 龙 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 严 覃
    武 戴 莫 孔 汤 常 温 康 施 牛 樊 葛 邢 安 齐 易 乔 伍 庞 颜 倪 庄 聂 章 鲁 岳 翟 殷 詹 申 欧 耿
    关 兰 焦 俞 左 柳 甘 祝 包 宁 尚 符 舒 阮 柯 纪 梅 童 凌 毕 季 裴 霍 涂 苗 谷 盛 曲 翁 冉 骆 蓝
    游 辛 靳 管 柴 蒙 鲍 喻 祁 蒲 房 滕 屈 饶 牟 艾 尤 穆 卓 缪 简 芦 麦 褚 娄 窦 戚 岑 卜 晏 卫 柏
    瞿 桂 佟 臧 闵 邬 卞 姬 仇 栾 隋 刁 巫 寇 桑 郎 甄 丛 仲 虞 敖 巩 佘 池 苑 迟 邝 鞠 惠 荆 冀 郁
    胥 储 栗 燕 楚 鄢 谌 奚 粟 冼 蔺 楼 闻 厉 郜 阚 屠 廉 禹 漆 卿 狄 扈 晁 芮 阙 戈 邸 雍 辜 裘 邰
    赫 逯 嵇 湛 戎 茅 昝`),
  ...words('欧阳 司马 诸葛 上官 慕容 东方 皇甫 令狐 夏侯 尉迟 公孙 长孙 宇文 司徒 端木 独孤'),
];

/** Surnames common enough that "<surname>老师" names a person in feedback; the first ~100 of the list. */
export const COMMON_SURNAMES = CHINESE_SURNAMES.slice(0, 100);

/** Whole given names, as a surname takes them. */
export const CHINESE_GIVEN_NAMES = words(`伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 超 霞 刚 辉 鹏 斌 宇 浩 凯 婷 琳
  秀英 桂英 小明 小红 小龙 子涵 浩然 梓萱 一诺 欣怡 宇轩 雨桐 思远 嘉怡 俊杰 建国 建华 文博 晓燕 晓东 海燕 志强
  志明 春华 秋云 国庆 丹丹 婷婷 佳琪 梦琪 子轩 浩宇 若曦 诗涵 天佑 家豪 雅婷 晓峰 明辉 振华 立新 红梅 秀兰 玉兰
  淑珍 丽华 建军 永强 海涛 国华 晓丽 金凤 美玲 晨曦 子墨 一鸣 思彤 语嫣 沐阳 梓豪 若汐 欣然 雨泽 佳怡 宇航 俊熙
  博文 昊天 梓涵 可馨 心怡 静怡 晓彤 嘉豪 文轩 嘉欣 子怡 雪莹 晓雯 佳慧 伟明 建平 卫东 向阳 春梅 桂兰 淑英 德华`);

/** Single characters given names are made of, for names outside every list. */
export const CHINESE_GIVEN_NAME_CHARS = [...`伟芳娜敏静丽强磊军洋勇艳杰娟涛超霞刚华建文博晓燕海志春秋佳琪梦子轩浩宇若曦诗涵佑家豪欣怡雨桐思远嘉俊诺梓萱晨阳亮鹏飞婷雪慧琳颖凯斌辉鑫昊悦瑶菲蕾薇彤馨泽睿铭宁乐源逸航婉玥楠峰岚晗煜翔瑞琦妍钰璐茜瑾萌蓉卓凡毅锋`];

export const WESTERN_FIRST_NAMES = words(`James John Michael David Sarah Emily Emma Olivia Sophia Daniel Matthew Andrew Jessica
  Jennifer Laura Kevin Brian Jason Ryan Eric Steven Chris Anna Lucy Amy Linda Karen Susan Rachel Hannah Megan Nicole
  Tony Peter Paul George Henry Oliver Jack Harry Charlie Alice Chloe Zoe Mia Ella Lily Ethan Lucas Noah Liam Mason
  Logan Nathan Aaron Adam Alex Ben Sam Tom Tim Kate Jenny Helen Mary Lisa Nancy Maria Carlos Diego Sofia Ivan Yuki
  Kenji Hiro Priya Raj Ahmed Fatima Omar Elena Marco Luca Hans Pierre Amelie Ingrid Sven Leila Nadia Victor Oscar`);

export const WESTERN_LAST_NAMES = words(`Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Wilson
  Anderson Taylor Thomas Moore Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King
  Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner Parker Collins
  Edwards Stewart Morris Murphy Cook Rogers Chen Wang Zhang Li Liu Nguyen Kim Park Tanaka Sato Müller Schmidt Rossi
  Dubois Kowalski Novak Jensen Silva Costa`);

/** Well-known athletes, coaches, teachers and authors learners name, one person a line. */
export const FAMOUS_PEOPLE = lines(`
  Yao Ming|姚明
  Li Na|李娜
  Lang Ping|郎平
  Liu Xiang|刘翔
  Su Bingtian|苏炳添
  Sun Yang|孙杨
  Eileen Gu|谷爱凌
  Quan Hongchan|全红婵
  Ma Long|马龙
  Zhang Jike|张继科
  Lin Dan|林丹
  Yi Jianlian|易建联
  Wu Lei|武磊
  Zheng Qinwen|郑钦文
  Zhang Weili|张伟丽
  Zhu Ting|朱婷
  Deng Yaping|邓亚萍
  Guo Jingjing|郭晶晶
  Lang Lang|郎朗
  罗振宇
  樊登
  吴军
  薛兆丰
  李永乐
  罗翔
  俞敏洪
  董宇辉
  蒋勋
  易中天
  于丹
  蒙曼
  戴建业
  刘润
  张雪峰
  吴晓波
  梁宁
  刘畊宏
  LeBron James|詹姆斯
  Kobe Bryant|Kobe|科比
  Michael Jordan|乔丹
  Stephen Curry|Curry|库里
  Lionel Messi|Messi|梅西
  Cristiano Ronaldo|Ronaldo|C罗
  Kylian Mbappé|Mbappe|姆巴佩
  Roger Federer|Federer|费德勒
  Serena Williams|小威廉姆斯
  Usain Bolt|Bolt|博尔特
  Eliud Kipchoge|Kipchoge|基普乔格
  Simone Biles
  Tiger Woods|老虎伍兹
  Naomi Osaka|大坂直美
  Novak Djokovic|Djokovic|德约科维奇
  Rafael Nadal|Nadal|纳达尔
  Kevin Durant|杜兰特
  Luka Doncic|东契奇
  Erling Haaland|Haaland|哈兰德
  Mohamed Salah|Salah|萨拉赫
  Harry Kane|凯恩
  Mo Farah
  Andrew Ng|吴恩达
  Richard Feynman|费曼
  Sal Khan
  Gordon Ramsay|戈登拉姆齐
  Jamie Oliver
  Yo-Yo Ma|马友友
  Adriene Mishler
  Joe Wicks
  Pamela Reif|帕梅拉
  Chloe Ting
`);

// ---------------------------------------------------------------------------
// ORG: universities, companies and brands, platforms, clubs and leagues.

export const ORGANISATIONS: Readonly<Record<string, readonly string[]>> = {
  universities: lines(`
    Peking University|北京大学|北大
    Tsinghua University|清华大学|清华
    Fudan University|复旦大学|复旦
    Zhejiang University|浙江大学|浙大
    Shanghai Jiao Tong University|上海交通大学|上海交大
    Nanjing University|南京大学
    Renmin University|中国人民大学|人大
    Wuhan University|武汉大学
    Sun Yat-sen University|中山大学
    Sichuan University|四川大学
    Huazhong University of Science and Technology|华中科技大学|华科
    Beijing Normal University|北京师范大学|北师大
    Tongji University|同济大学
    Xiamen University|厦门大学
    University of Hong Kong|香港大学|港大|HKU
    Chinese University of Hong Kong|香港中文大学|港中文|CUHK
    Beijing Sport University|北京体育大学|北体
    Shanghai University of Sport|上海体育大学|上体
    Central Conservatory of Music|中央音乐学院|央音
    Central Academy of Fine Arts|中央美术学院|央美
    Beijing Foreign Studies University|北京外国语大学|北外
    Harvard University|Harvard|哈佛|哈佛大学
    Stanford University|Stanford|斯坦福|斯坦福大学
    MIT|麻省理工|麻省理工学院
    University of Oxford|Oxford|牛津|牛津大学
    University of Cambridge|Cambridge|剑桥|剑桥大学
    Yale University|Yale|耶鲁
    UC Berkeley|Berkeley|伯克利
    Princeton University|Princeton|普林斯顿
    Columbia University|哥伦比亚大学
    New York University|NYU|纽约大学
    UCLA
    University of Toronto|多伦多大学
    University of Tokyo|东京大学
    National University of Singapore|NUS|新加坡国立大学
    Imperial College London|Imperial College|帝国理工
    London School of Economics|LSE|伦敦政经
    Juilliard|茱莉亚音乐学院
  `),
  companies: lines(`
    Tencent|腾讯
    Alibaba|阿里巴巴|阿里
    ByteDance|字节跳动|字节
    Baidu|百度
    Huawei|华为
    Xiaomi|小米公司
    JD.com|京东
    Meituan|美团
    NetEase|网易
    Pinduoduo|拼多多
    Kuaishou|快手
    Didi|滴滴
    Ant Group|蚂蚁集团
    China Merchants Bank|招商银行|招行
    Bank of China|中国银行
    ICBC|工商银行
    Google|谷歌
    Microsoft|微软
    Apple|苹果公司
    Amazon|亚马逊
    Meta|Facebook
    OpenAI
    Nvidia|英伟达
    Tesla|特斯拉
    Nike|耐克
    Adidas|阿迪达斯
    Lululemon|露露乐蒙
    Under Armour|安德玛
    Anta|安踏
    Li-Ning|李宁
    Xtep|特步
    Decathlon|迪卡侬
    Garmin|佳明
    Starbucks|星巴克
    McKinsey|麦肯锡
    Deloitte|德勤
    PwC|普华永道
    KPMG|毕马威
    Goldman Sachs|高盛
    JPMorgan|摩根大通
    Coca-Cola|可口可乐
    Red Bull|红牛
  `),
  platforms: lines(`
    Coursera
    Udemy
    edX
    Khan Academy|可汗学院
    Duolingo|多邻国
    LinkedIn|领英
    YouTube|油管
    Bilibili|B站|哔哩哔哩
    Douyin|抖音|TikTok
    Xiaohongshu|小红书
    Zhihu|知乎
    Dedao|得到App
    Ximalaya|喜马拉雅
    Fandeng Reading|樊登读书
    NetEase Cloud Classroom|网易云课堂
    Tencent Classroom|腾讯课堂
    China University MOOC|中国大学MOOC
    XuetangX|学堂在线
    New Oriental|新东方
    TAL Education|好未来
    Yuanfudao|猿辅导
    Zuoyebang|作业帮
    WeChat|微信
    Weibo|微博
    Skillshare
    MasterClass
    Udacity
    Codecademy
    LeetCode|力扣
    Peloton
    Strava
    Summit Academy
    Harbor City FC
  `),
  sports: lines(`
    NBA
    CBA|中国男篮职业联赛
    Chinese Super League|中超|中超联赛|CSL
    Premier League|英超|EPL
    La Liga|西甲
    Bundesliga|德甲
    Serie A|意甲
    Champions League|欧冠
    FIFA|国际足联
    UEFA|欧足联
    Chinese Football Association|中国足协|足协
    International Olympic Committee|国际奥委会|IOC
    NFL
    WNBA
    ATP
    WTA
    Real Madrid|皇家马德里|皇马
    FC Barcelona|巴萨|Barça
    Manchester United|曼联|Man Utd
    Manchester City|曼城|Man City
    Liverpool FC|利物浦队
    Chelsea FC|切尔西|Chelsea
    Arsenal|阿森纳
    Bayern Munich|拜仁|拜仁慕尼黑
    Juventus|尤文|尤文图斯
    AC Milan|AC米兰
    Inter Milan|国际米兰
    Paris Saint-Germain|大巴黎|PSG
    Los Angeles Lakers|湖人|Lakers|洛杉矶湖人
    Golden State Warriors|勇士队|金州勇士
    Boston Celtics|凯尔特人|Celtics
    Chicago Bulls|芝加哥公牛
    Beijing Guoan|北京国安|国安
    Shanghai Shenhua|上海申花|申花
    Shandong Taishan|山东泰山|鲁能
    Shanghai Port|上海海港
    China women's volleyball team|中国女排
    Chinese Athletics Association|中国田协|田协
    Chinese Basketball Association|中国篮协|篮协
  `),
};

// ---------------------------------------------------------------------------
// LOC: Chinese cities, districts and provinces; world cities; countries.

export const PLACES: Readonly<Record<string, readonly string[]>> = {
  chineseCities: lines(`
    Beijing|北京|北京市
    Shanghai|上海|上海市
    Guangzhou|广州
    Shenzhen|深圳
    Hangzhou|杭州
    Chengdu|成都
    Chongqing|重庆
    Wuhan|武汉
    Xi'an|西安
    Nanjing|南京
    Tianjin|天津
    Suzhou|苏州
    Changsha|长沙
    Zhengzhou|郑州
    Qingdao|青岛
    Xiamen|厦门
    Dalian|大连
    Shenyang|沈阳
    Harbin|哈尔滨
    Jinan|济南
    Hefei|合肥
    Fuzhou|福州
    Kunming|昆明
    Nanning|南宁
    Guiyang|贵阳
    Lanzhou|兰州
    Taiyuan|太原
    Shijiazhuang|石家庄
    Nanchang|南昌
    Changchun|长春
    Ningbo|宁波
    Wuxi|无锡
    Dongguan|东莞
    Foshan|佛山
    Zhuhai|珠海
    Sanya|三亚
    Haikou|海口
    Lhasa|拉萨
    Urumqi|乌鲁木齐
    Hohhot|呼和浩特
    Hong Kong|香港
    Macau|澳门
    Taipei|台北
    Wenzhou|温州
    Shaoxing|绍兴
    Yangzhou|扬州
    Luoyang|洛阳
    Guilin|桂林
    Lijiang|丽江
    Dali|大理
  `),
  districts: lines(`
    Chaoyang District|朝阳区
    Haidian|海淀区|海淀
    Dongcheng|东城区
    Xicheng|西城区
    Pudong|浦东|浦东新区
    Xuhui|徐汇区|徐汇
    Jing'an|静安区|静安
    Huangpu|黄浦区
    Tianhe|天河区
    Yuexiu|越秀区
    Nanshan District|南山区
    Futian|福田区|福田
    Bao'an|宝安区
    West Lake District|西湖区
    Binjiang|滨江区
    Wuhou|武侯区
    Jinjiang District|锦江区
    Wangjing|望京
    Zhongguancun|中关村
    Wudaokou|五道口
    Lujiazui|陆家嘴
    Sanlitun|三里屯
  `),
  provinces: lines(`
    Guangdong|广东|广东省
    Zhejiang|浙江|浙江省
    Jiangsu|江苏|江苏省
    Sichuan|四川|四川省
    Shandong|山东|山东省
    Henan|河南|河南省
    Hubei|湖北|湖北省
    Hunan|湖南|湖南省
    Fujian|福建|福建省
    Yunnan|云南|云南省
    Northeast China|东北
    Xinjiang|新疆
    Tibet|西藏
  `),
  worldCities: lines(`
    New York|纽约|NYC
    London|伦敦
    Paris|巴黎
    Tokyo|东京
    Sydney|悉尼
    Melbourne|墨尔本
    Toronto|多伦多
    Vancouver|温哥华
    Los Angeles|洛杉矶
    San Francisco|旧金山
    Seattle|西雅图
    Boston|波士顿
    Chicago|芝加哥
    Berlin|柏林
    Munich|慕尼黑
    Madrid|马德里
    Barcelona|巴塞罗那
    Rome|罗马
    Milan|米兰
    Amsterdam|阿姆斯特丹
    Dubai|迪拜
    Seoul|首尔
    Osaka|大阪
    Bangkok|曼谷
    Kuala Lumpur|吉隆坡
    Manchester|曼彻斯特
    Liverpool|利物浦
    Dublin|都柏林
    Zurich|苏黎世
    Lisbon|里斯本
  `),
  countries: lines(`
    China|中国
    United States|美国|America|USA
    United Kingdom|英国|UK|Britain
    Japan|日本
    South Korea|韩国|Korea
    Germany|德国
    France|法国
    Canada|加拿大
    Australia|澳大利亚|澳洲
    Italy|意大利
    Spain|西班牙
    Brazil|巴西
    Argentina|阿根廷
    India|印度
    Russia|俄罗斯
    Thailand|泰国
    Malaysia|马来西亚
    Vietnam|越南
    Netherlands|荷兰
    Switzerland|瑞士
    New Zealand|新西兰
    Mexico|墨西哥
    Kenya|肯尼亚
    Ethiopia|埃塞俄比亚
    Portugal|葡萄牙
    Sweden|瑞典
    Norway|挪威
    Egypt|埃及
    Singapore|新加坡
  `),
};

// ---------------------------------------------------------------------------
// Derived views.

/** A phrase's script: Chinese when it has a Han character. */
export const isChinese = (text: string): boolean => /\p{Script=Han}/u.test(text);

export type Script = 'zh' | 'en';
export const scriptOf = (text: string): Script => (isChinese(text) ? 'zh' : 'en');

/** The concepts of a synonym list, each its names. */
export const concepts = (groups: Readonly<Record<string, readonly string[]>>): string[][] =>
  Object.values(groups).flatMap((ls) => ls.map((l) => l.split('|')));

let timeBySlot: Map<string, string[]> | null = null;

/**
 * Every whole time phrase with the slot it means: the standalone lists,
 * and the compositions of a day (weekend, weekday, every day) with a part
 * of the day, read by the same rules as `normalise('TIME', …)`.
 */
export function timePhrases(): ReadonlyMap<string, readonly string[]> {
  if (timeBySlot) return timeBySlot;
  const out = new Map<string, string[]>();
  const add = (slot: string, phrase: string) => {
    const list = out.get(slot) ?? [];
    if (!list.includes(phrase)) list.push(phrase);
    out.set(slot, list);
  };
  for (const [slot, list] of Object.entries(TIME_STANDALONE_ZH)) for (const p of list) add(slot, p);
  for (const [slot, list] of Object.entries(TIME_PHRASES_EN)) for (const p of list) add(slot, p);
  const { evening, morning, lunch, daytime } = TIME_DAYPART_ZH;
  for (const day of TIME_WEEKEND_ZH) {
    add('WEEKEND', day);
    for (const p of evening) add('WEEKEND_EVENING', day + p);
    for (const p of [...morning, ...daytime, ...lunch]) add('WEEKEND', day + p);
  }
  for (const day of TIME_WEEKDAY_ZH) {
    add('WEEKDAY_DAYTIME', day);
    for (const p of evening) add('WEEKDAY_EVENING', day + p);
    for (const p of morning) add('WEEKDAY_MORNING', day + p);
    for (const p of lunch) add('LUNCH', day + p);
    for (const p of daytime) add('WEEKDAY_DAYTIME', day + p);
  }
  for (const day of TIME_EVERY_DAY_ZH) {
    for (const p of evening) add('EVENING', day + p);
    for (const p of morning) add('MORNING', day + p);
    for (const p of lunch) add('LUNCH', day + p);
  }
  timeBySlot = out;
  return out;
}

export interface LexiconEntry {
  text: string;
  script: Script;
  /** The concept's canonical name (TOPIC, ORG, LOC, famous PERSON), or the value's key (LEVEL, FORMAT, TIME). */
  value: string;
}

const entryCache = new Map<string, LexiconEntry[]>();

/**
 * The whole phrases of a type the lexicon lists. BUDGET lists only the
 * free phrases (amounts are patterns); PERSON lists the famous people
 * (names composed from surnames and given names are made where needed).
 */
export function lexiconEntries(type: 'TOPIC' | 'LEVEL' | 'FORMAT' | 'TIME' | 'PERSON' | 'ORG' | 'LOC' | 'BUDGET'): readonly LexiconEntry[] {
  const cached = entryCache.get(type);
  if (cached) return cached;
  const fromConcepts = (cs: string[][]) => cs.flatMap((names) => names.map((text) => ({ text, script: scriptOf(text), value: names[0] })));
  const fromValues = (m: Readonly<Record<string, readonly string[]>> | ReadonlyMap<string, readonly string[]>) =>
    [...(m instanceof Map ? m.entries() : Object.entries(m))].flatMap(([value, list]: [string, readonly string[]]) =>
      list.map((text) => ({ text, script: scriptOf(text), value })),
    );
  let entries: LexiconEntry[];
  switch (type) {
    case 'TOPIC': entries = fromConcepts(concepts(TOPICS)); break;
    case 'LEVEL': entries = fromValues(LEVEL_PHRASES); break;
    case 'FORMAT': entries = fromValues(FORMAT_PHRASES); break;
    case 'TIME': entries = fromValues(timePhrases()); break;
    case 'PERSON': entries = fromConcepts(FAMOUS_PEOPLE.map((l) => l.split('|'))); break;
    case 'ORG': entries = fromConcepts(concepts(ORGANISATIONS)); break;
    case 'LOC': entries = fromConcepts(concepts(PLACES)); break;
    case 'BUDGET': entries = FREE_PHRASES.map((text) => ({ text, script: scriptOf(text), value: 'FREE' })); break;
  }
  entryCache.set(type, entries);
  return entries;
}
