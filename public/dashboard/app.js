// Allied live dashboard: signs in with a pasted credential, lets the user pick
// the brand or one of its alliances and a window, shows the `metrics`
// subscription's totals as they are delivered, and charts the window from the
// same GraphQL fields the API offers (metricsSeries, funnel, campaigns,
// allianceImpact), loaded first and redrawn as snapshots arrive, with the
// alliance's latest settlement, and suggests how to split a budget across the
// brand's own campaigns in the scope (suggestBudget). No build step, no framework: graphql-ws and
// uPlot are served alongside.
'use strict';

(function () {
  const f = window.alliedFormat;
  const charts = window.alliedCharts;
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  /** Each window's length and the buckets its charts use. */
  const WINDOWS = {
    LAST_HOUR: { ms: HOUR, bucket: 'HOUR', impactBucket: 'HOUR' },
    LAST_24_HOURS: { ms: DAY, bucket: 'HOUR', impactBucket: 'HOUR' },
    LAST_7_DAYS: { ms: 7 * DAY, bucket: 'HOUR', impactBucket: 'DAY' },
    LAST_30_DAYS: { ms: 30 * DAY, bucket: 'DAY', impactBucket: 'DAY' },
  };
  /** Redraws follow snapshots at most this often. */
  const REFRESH_MS = 1000;
  /**
   * The funnel, the campaigns and the uplift read every event of the window
   * (about a second for a brand with a million): they follow at most this often.
   */
  const SLOW_REFRESH_MS = 30_000;
  const STAGES = { REACH: 'Reach', ACQUIRED: 'Acquired', ACTIVATED: 'Activated', CONVERTED: 'Converted', RETAINED: 'Retained' };

  const METRICS = `subscription($window: MetricsWindow, $allianceId: ID) {
    metrics(window: $window, allianceId: $allianceId) {
      at windowStart revenue { amountMinor currency } purchases refunds impressions clicks ctr conversions conversionRate satisfaction ratings
    }
  }`;
  const SERIES = `query($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket, $allianceId: ID) {
    metricsSeries(from: $from, to: $to, bucket: $bucket, allianceId: $allianceId) {
      points { bucketStart revenue { amountMinor currency } purchases impressions clicks conversions ratings satisfaction }
    }
  }`;
  const PERIOD = `query($from: DateTime!, $to: DateTime!, $allianceId: ID) {
    funnel(from: $from, to: $to, allianceId: $allianceId) {
      marketSize indexDelta
      current { stages { stage count rate } satisfaction ratings awareness index unknown }
      previous { stages { stage count rate } satisfaction ratings awareness index }
    }
    campaigns(first: 50, allianceId: $allianceId) {
      edges { node { id name metrics { spend { amountMinor currency } conversions clicks } } }
    }
  }`;
  const IMPACT = `query($a: ID!, $from: DateTime!, $to: DateTime!, $bucket: MetricsBucket) {
    allianceImpact(allianceId: $a, from: $from, to: $to, bucket: $bucket) {
      memberIds
      points { bucketStart usable uplift joint { satisfaction ratings } members { brandId satisfaction ratings } }
      fit { reason points rSquared coefficients { name brandId estimate low high } }
    }
  }`;
  const OWN_CAMPAIGNS = `query($allianceId: ID) {
    campaigns(first: 50, allianceId: $allianceId) { edges { node { id name status budget { currency } owner { id } } } }
  }`;
  const BUDGET = `query($ids: [ID!]!, $total: MoneyInput!, $objective: BudgetObjective!, $weeks: Int!) {
    suggestBudget(campaignIds: $ids, total: $total, objective: $objective, weeks: $weeks) {
      method objective weeks expected total { amountMinor currency } warnings assumptions
      shares { campaignId amount { amountMinor currency } share expected expectedLow expectedHigh ctr costPerClick { amountMinor currency } conversionRate weeksOfHistory }
    }
  }`;
  const SETTLEMENT_FIELDS = `id status currency periodStart periodEnd net { amountMinor currency } eventCount
    lines { brand { name } agreementVersion shareBasisPoints amount { amountMinor currency } }`;

  const $ = (selector) => document.querySelector(selector);
  const figure = (name) => document.querySelector(`.chart[data-chart="${name}"]`);
  const state = { token: null, brandId: null, budgetCampaigns: new Map(), client: null, stops: [], alliances: new Map(), generation: 0, timer: null, refreshing: null, again: false, slowAt: 0 };

  function setStatus(text, isError) {
    const el = $('#status');
    el.textContent = text;
    el.classList.toggle('error', Boolean(isError));
  }

  function authorization() {
    return /^bearer\s/i.test(state.token) ? state.token : `Bearer ${state.token}`;
  }

  async function query(text, variables) {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: authorization() },
      body: JSON.stringify({ query: text, variables }),
    });
    const body = await res.json();
    if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
    return body.data;
  }

  function kpi(name, value, detail) {
    $(`output[data-value="${name}"]`).textContent = value;
    $(`[data-detail="${name}"]`).textContent = detail;
  }

  /** The live totals over the window, from one `metrics` snapshot. */
  function showTotals(s) {
    const revenue = s.revenue.map(f.money);
    kpi('revenue', revenue.length ? revenue.map((r) => r.text).join(' · ') : '0', `${f.counted(s.purchases, 'purchase')}, ${f.counted(s.refunds, 'refund')}`);
    kpi('ctr', s.impressions ? f.percent(s.ctr, 2) : '—', s.impressions ? `${f.counted(s.clicks, 'click')} of ${f.counted(s.impressions, 'impression')}` : 'no impressions yet');
    kpi('conversions', f.count(s.conversions), s.clicks ? `${f.percent(s.conversionRate, 1)} of ${f.counted(s.clicks, 'click')}` : 'attributed purchases');
    kpi('satisfaction', s.satisfaction === null ? '—' : f.percent(s.satisfaction, 1), s.ratings ? f.counted(s.ratings, 'rating') : 'no ratings yet');
    $('#updated').textContent = `Updated ${f.dateTime(s.at)}; totals since ${f.dateMinute(s.windowStart)}.`;
  }

  function drawSeries(points, bucket) {
    const x = points.map((p) => Date.parse(p.bucketStart) / 1000);
    const currencies = [...new Set(points.flatMap((p) => p.revenue.map((m) => m.currency)))].sort();
    const amount = (p, currency) => {
      const m = p.revenue.find((r) => r.currency === currency);
      return m ? f.money(m).value : 0;
    };
    const xLabel = `Time (${f.zone})`;
    document.querySelectorAll('[data-bucket]').forEach((el) => (el.textContent = bucket.toLowerCase()));
    charts.draw(figure('revenue'), {
      kind: 'time', x, xLabel,
      // Amounts in different currencies share no scale: one chart each, in its own units.
      panels: currencies.map((c) => ({ units: { y: 'money' }, labels: { y: c }, series: [{ label: c, unit: 'money', currency: c, values: points.map((p) => amount(p, c)) }] })),
      empty: 'No purchases in this window. Purchases recorded with recordEvents or POST /ingest appear here, one chart per currency.',
    });
    charts.draw(figure('ctr'), {
      kind: 'time', x, xLabel, units: { y: 'rate' }, labels: { y: 'Clicks ÷ impressions' },
      series: [{ label: 'CTR', unit: 'rate', values: points.map((p) => (p.impressions ? p.clicks / p.impressions : null)) }],
      empty: 'No impressions in this window. Record IMPRESSION and CLICK events to see the click-through rate.',
    });
    charts.draw(figure('conversions'), {
      kind: 'time', x, xLabel, units: { y: 'count' }, labels: { y: 'Purchases' },
      series: [
        { label: 'Purchases', unit: 'count', values: points.map((p) => p.purchases) },
        { label: 'Attributed conversions', unit: 'count', values: points.map((p) => p.conversions) },
      ],
      empty: 'No purchases in this window. Record PURCHASE events; those after a campaign click count as conversions.',
    });
    charts.draw(figure('satisfaction'), {
      kind: 'time', x, xLabel, units: { y: 'satisfaction' }, labels: { y: 'Satisfaction' },
      series: [{ label: 'Satisfaction', unit: 'satisfaction', values: points.map((p) => p.satisfaction) }],
      empty: 'No ratings in this window. RATING events (1 to 5 stars) are shown as 0–100%.',
    });
  }

  function drawFunnel(funnel) {
    const stages = funnel.current.stages.map((s) => s.stage);
    const count = (period) => stages.map((name) => period.stages.find((s) => s.stage === name).count);
    charts.draw(figure('funnel'), {
      kind: 'bars', x: stages.map((_, i) => i), categories: stages.map((s) => STAGES[s] || s), xLabel: 'Stage',
      units: { y: 'count' }, labels: { y: 'Learners' },
      series: [
        { label: 'This window', unit: 'count', values: count(funnel.current) },
        { label: 'Window before', unit: 'count', values: count(funnel.previous) },
      ],
      empty: 'No learners in this window or the one before. Impressions, enrolments and purchases fill the funnel.',
    });
    const c = funnel.current;
    const index = c.index === null ? `Index unknown: ${c.unknown.join(' ')}` : `Index ${f.fixed(c.index, 4)}${funnel.indexDelta === null ? '' : ` (${funnel.indexDelta >= 0 ? '+' : '−'}${f.fixed(Math.abs(funnel.indexDelta), 4)})`}`;
    const awareness = c.awareness === null ? '' : ` · awareness ${f.percent(c.awareness, 1)} of ${f.count(funnel.marketSize)}`;
    const satisfaction = c.satisfaction === null ? ' · no ratings' : ` · satisfaction ${f.percent(c.satisfaction, 1)} (${f.counted(c.ratings, 'rating')})`;
    $('[data-note="funnel"]').textContent = `${index}${awareness}${satisfaction}`;
  }

  /** A campaign's name as a chart's category label: at most 18 characters. */
  const shortName = (name) => (name.length > 18 ? `${name.slice(0, 17)}…` : name);

  function drawCampaigns(edges) {
    const campaigns = edges.map((e) => e.node);
    const currencies = [...new Set(campaigns.flatMap((c) => c.metrics.spend.map((m) => m.currency)))].sort();
    const spend = (c, currency) => {
      const m = c.metrics.spend.find((s) => s.currency === currency);
      return m ? f.money(m).value : 0;
    };
    charts.draw(figure('campaigns'), {
      kind: 'bars', x: campaigns.map((_, i) => i), categories: campaigns.map((c) => shortName(c.name)), xLabel: 'Campaign',
      units: { y: 'money', y2: 'count' }, labels: { y: currencies.length === 1 ? `Spend (${currencies[0]})` : 'Spend, in each currency', y2: 'Conversions' },
      series: [
        ...currencies.map((cur) => ({ label: `Spend ${cur}`, unit: 'money', currency: cur, values: campaigns.map((c) => spend(c, cur)) })),
        { label: 'Conversions', unit: 'count', scale: 'y2', values: campaigns.map((c) => c.metrics.conversions) },
      ],
      empty: campaigns.length
        ? 'No spend or conversions recorded yet. Record spend with recordCampaignSpend; purchases after a campaign click convert.'
        : 'No campaigns in this scope yet. Create one with createCampaign.',
    });
  }

  function drawUplift(impact, allianceId) {
    const note = $('[data-note="uplift"]');
    if (!impact) {
      charts.draw(figure('uplift'), { kind: 'time', x: [], xLabel: 'Time', units: { y: 'satisfaction' }, labels: { y: 'Satisfaction' }, series: [], empty: "Pick an alliance in Scope to see how its joint offer satisfies learners against each member's own." });
      note.textContent = '';
      return;
    }
    const names = state.alliances.get(allianceId).members;
    const x = impact.points.map((p) => Date.parse(p.bucketStart) / 1000);
    charts.draw(figure('uplift'), {
      kind: 'time', x, xLabel: `Time (${f.zone})`,
      units: { y: 'satisfaction', y2: 'points' }, labels: { y: 'Satisfaction', y2: 'Uplift ρ' },
      series: [
        ...impact.memberIds.map((id, m) => ({ label: `${names.get(id) || id} (own)`, unit: 'satisfaction', values: impact.points.map((p) => p.members[m].satisfaction) })),
        { label: 'Joint offer', unit: 'satisfaction', values: impact.points.map((p) => p.joint.satisfaction) },
        { label: 'Uplift ρ', unit: 'points', scale: 'y2', values: impact.points.map((p) => p.uplift) },
      ],
      empty: 'No ratings of this alliance in the window. Ratings of joint courses and of each member’s own courses are compared here.',
    });
    const fit = impact.fit;
    note.textContent = fit.coefficients
      ? `Fit over ${fit.points} buckets: ${fit.coefficients.map((c) => `${c.name} ${f.fixed(c.estimate, 2)} [${f.fixed(c.low, 2)}, ${f.fixed(c.high, 2)}]`).join(', ')}; R² ${f.fixed(fit.rSquared, 2)}.`
      : `No fit: ${fit.reason}`;
  }

  /** Loads the window's figures and redraws every chart; a later scope or window wins. */
  async function refresh() {
    // One drawing at a time per scope and window; one for a new choice starts at once.
    const generation = state.generation;
    if (state.refreshing === generation) {
      state.again = true;
      return;
    }
    state.refreshing = generation;
    try {
      const allianceId = $('#scope').value || null;
      const win = WINDOWS[$('#window').value];
      const to = new Date();
      const from = new Date(to.getTime() - win.ms);
      const period = { from: from.toISOString(), to: to.toISOString() };
      const slow = Date.now() - state.slowAt >= SLOW_REFRESH_MS;
      const none = Promise.resolve(null);
      const [series, figures, impact] = await Promise.all([
        query(SERIES, { ...period, bucket: win.bucket, allianceId }),
        slow ? query(PERIOD, { ...period, allianceId }) : none,
        slow && allianceId ? query(IMPACT, { ...period, a: allianceId, bucket: win.impactBucket }) : none,
      ]);
      if (generation !== state.generation) return;
      drawSeries(series.metricsSeries.points, win.bucket);
      if (slow) {
        state.slowAt = Date.now();
        drawFunnel(figures.funnel);
        drawCampaigns(figures.campaigns.edges);
        drawUplift(impact && impact.allianceImpact, allianceId);
      }
      $('#board').dataset.drawn = String(Number($('#board').dataset.drawn || 0) + 1);
    } catch (error) {
      if (generation === state.generation) setStatus(error.message, true);
    } finally {
      if (state.refreshing === generation) {
        state.refreshing = null;
        if (state.again) {
          state.again = false;
          scheduleRefresh();
        }
      }
    }
  }

  function scheduleRefresh() {
    if (state.timer) return;
    state.timer = setTimeout(() => {
      state.timer = null;
      refresh();
    }, REFRESH_MS);
  }

  /** Empties the budget suggestion (a new scope, a new suggestion, sign-out). */
  function clearBudget() {
    const summary = $('#budget-summary');
    summary.textContent = '';
    summary.classList.remove('error');
    $('#budget-shares').hidden = true;
    $('#budget-shares tbody').replaceChildren();
    $('#budget-warnings').replaceChildren();
    $('#budget-assumptions').hidden = true;
    $('#budget-assumptions ul').replaceChildren();
    charts.clear([figure('budget')]);
    figure('budget').hidden = true;
  }

  /** Lists the brand's own campaigns in the scope for a budget suggestion; other members' are theirs to budget. */
  async function loadBudgetCampaigns(allianceId, generation) {
    const data = await query(OWN_CAMPAIGNS, { allianceId });
    if (generation !== state.generation) return;
    const all = data.campaigns.edges.map((e) => e.node);
    const own = all.filter((c) => c.owner.id === state.brandId);
    const others = all.length - own.length;
    const theirs = others ? ` Other members' campaigns (${f.count(others)}) are theirs to budget.` : '';
    clearBudget();
    state.budgetCampaigns = new Map(own.map((c) => [c.id, c.name]));
    const form = $('#budget-form');
    const hint = $('#budget-hint');
    if (!own.length) {
      form.hidden = true;
      hint.textContent = allianceId
        ? `None of this alliance's campaigns is yours.${theirs} Create one with createCampaign (with allianceId) and record its spend with recordCampaignSpend to get a suggestion.`
        : 'No campaigns yet. Create one with createCampaign and record its spend with recordCampaignSpend to get a suggestion.';
      return;
    }
    hint.textContent = `Splits a total across ${allianceId ? 'your campaigns in this alliance' : "your brand's campaigns"} to maximise the expected conversions or revenue, from each campaign's own spend history.${theirs}`;
    // Campaigns that have ended are listed but not picked unless nothing else is.
    const live = own.filter((c) => c.status !== 'ENDED');
    const picked = new Set((live.length ? live : own).map((c) => c.id));
    const boxes = own.map((c) => {
      const box = Object.assign(document.createElement('input'), { type: 'checkbox', value: c.id, checked: picked.has(c.id) });
      const label = document.createElement('label');
      label.append(box, document.createTextNode(c.status === 'ACTIVE' ? c.name : `${c.name} (${c.status.toLowerCase()})`));
      return label;
    });
    $('#budget-campaigns').replaceChildren(Object.assign(document.createElement('legend'), { textContent: 'Campaigns' }), ...boxes);
    const currencies = [...new Set(own.map((c) => c.budget.currency))].sort();
    $('#budget-currency').replaceChildren(...currencies.map((c) => new Option(c, c)));
    form.hidden = false;
  }

  /** An expected outcome as it reads: conversions to one decimal, revenue as money. */
  function outcome(objective, value, currency) {
    return objective === 'REVENUE' ? f.money({ amountMinor: Math.round(value), currency }).text : `${f.fixed(value, 1)} conversions`;
  }

  function showBudget(s) {
    const currency = s.total.currency;
    const name = (id) => state.budgetCampaigns.get(id) || id;
    const how = s.method === 'RESPONSE_CURVES'
      ? 'along each campaign’s fitted response curve (diminishing returns)'
      : 'in proportion to each campaign’s measured return, since a history is too short for response curves';
    $('#budget-summary').textContent = `${f.money(s.total).text} over ${f.counted(s.weeks, 'week')}, split ${how}: expected ${outcome(s.objective, s.expected, currency)}.`;
    const cell = (text) => Object.assign(document.createElement('td'), { textContent: text, className: 'amount' });
    $('#budget-shares tbody').replaceChildren(
      ...s.shares.map((share) => {
        const row = document.createElement('tr');
        row.dataset.campaign = share.campaignId;
        // Campaign names are user data: set as text, never as markup.
        row.append(Object.assign(document.createElement('th'), { textContent: name(share.campaignId), scope: 'row' }));
        const interval = cell(`${outcome(s.objective, share.expectedLow, currency)} – ${outcome(s.objective, share.expectedHigh, currency)}`);
        Object.assign(interval.dataset, { low: String(share.expectedLow), high: String(share.expectedHigh) });
        const cells = [
          [f.money(share.amount).text, share.amount.amountMinor],
          [f.percent(share.share, 1), share.share],
          [outcome(s.objective, share.expected, currency), share.expected],
        ].map(([text, raw]) => {
          const td = cell(text);
          td.dataset.raw = String(raw);
          return td;
        });
        row.append(
          ...cells,
          interval,
          cell(share.ctr === null ? '—' : f.percent(share.ctr, 2)),
          cell(share.costPerClick ? f.money(share.costPerClick).text : '—'),
          cell(share.conversionRate === null ? '—' : f.percent(share.conversionRate, 2)),
          cell(f.count(share.weeksOfHistory)),
        );
        return row;
      }),
    );
    $('#budget-shares').hidden = false;
    $('#budget-warnings').replaceChildren(...s.warnings.map((w) => Object.assign(document.createElement('li'), { textContent: w })));
    $('#budget-assumptions ul').replaceChildren(...s.assumptions.map((a) => Object.assign(document.createElement('li'), { textContent: a })));
    $('#budget-assumptions').hidden = false;
    const chart = figure('budget');
    chart.hidden = false;
    const revenue = s.objective === 'REVENUE';
    const major = (minor) => f.money({ amountMinor: minor, currency }).value;
    charts.draw(chart, {
      kind: 'bars', x: s.shares.map((_, i) => i), xLabel: 'Campaign',
      categories: s.shares.map((share) => shortName(name(share.campaignId))),
      units: { y: 'money', y2: revenue ? 'money' : 'count' },
      labels: { y: `Suggested spend (${currency})`, y2: revenue ? `Expected revenue (${currency})` : 'Expected conversions' },
      series: [
        { label: 'Suggested spend', unit: 'money', currency, values: s.shares.map((share) => major(share.amount.amountMinor)) },
        { label: revenue ? 'Expected revenue' : 'Expected conversions', unit: revenue ? 'money' : 'count', currency, scale: 'y2', values: s.shares.map((share) => (revenue ? major(share.expected) : share.expected)) },
      ],
      empty: 'The suggestion puts nothing on any campaign.',
    });
  }

  async function suggest(event) {
    event.preventDefault();
    const generation = state.generation;
    const ids = [...document.querySelectorAll('#budget-campaigns input:checked')].map((box) => box.value);
    const currency = $('#budget-currency').value;
    const amountMinor = Math.round(Number($('#budget-total').value) * 10 ** f.currencyDigits(currency));
    clearBudget();
    const summary = $('#budget-summary');
    const fail = (message) => {
      summary.textContent = message;
      summary.classList.add('error');
    };
    if (!ids.length) return fail('Pick at least one campaign.');
    if (!(amountMinor > 0)) return fail(`Type a total above zero, in ${currency}.`);
    summary.textContent = 'Suggesting…';
    try {
      const variables = { ids, total: { amountMinor, currency }, objective: $('#budget-objective').value, weeks: Number($('#budget-weeks').value) };
      const data = await query(BUDGET, variables);
      if (generation === state.generation) showBudget(data.suggestBudget);
    } catch (error) {
      if (generation === state.generation) fail(error.message);
    }
  }

  function showSettlement(s) {
    const summary = $('#settlement-summary');
    const table = $('#settlement-lines');
    if (!s) {
      summary.textContent = 'No settlement yet. A member runs one with runSettlement once the period has ended.';
      table.hidden = true;
      return;
    }
    summary.textContent = `${f.dateMinute(s.periodStart)} – ${f.dateMinute(s.periodEnd)} · ${s.status} · net ${f.money(s.net).text} · ${f.counted(s.eventCount, 'event')}`;
    summary.dataset.settlement = s.id;
    table.querySelector('tbody').replaceChildren(
      ...s.lines.map((l) => {
        const row = document.createElement('tr');
        // Brand names are user data: set as text, never as markup.
        for (const [text, className] of [[l.brand.name, ''], [String(l.agreementVersion), ''], [`${f.fixed(l.shareBasisPoints / 100, 2)}%`, ''], [f.money(l.amount).text, 'amount']]) {
          row.append(Object.assign(document.createElement('td'), { textContent: text, className }));
        }
        return row;
      }),
    );
    table.hidden = false;
  }

  function subscribe(text, variables, onData) {
    return state.client.subscribe(
      { query: text, variables },
      {
        next: (result) => (result.errors ? setStatus(result.errors[0].message, true) : onData(result.data)),
        error: (error) => setStatus(Array.isArray(error) ? error[0].message : 'The live connection failed.', true),
        complete: () => undefined,
      },
    );
  }

  function stopWatching() {
    state.generation += 1;
    state.stops.splice(0).forEach((stop) => stop());
    state.again = false;
    state.slowAt = 0;
    clearTimeout(state.timer);
    state.timer = null;
  }

  async function watch() {
    stopWatching();
    charts.clear([...document.querySelectorAll('.chart')]);
    const allianceId = $('#scope').value || null;
    setStatus('Live.', false);
    state.stops.push(
      subscribe(METRICS, { window: $('#window').value, allianceId }, (data) => {
        showTotals(data.metrics);
        scheduleRefresh();
      }),
    );
    await Promise.all([refresh(), loadBudgetCampaigns(allianceId, state.generation)]);
    if (!allianceId) {
      showSettlement(undefined);
      $('#settlement-summary').textContent = 'Pick an alliance to see its latest settlement.';
      return;
    }
    const data = await query(`query($a: ID!) { settlements(allianceId: $a, first: 1) { edges { node { ${SETTLEMENT_FIELDS} } } } }`, { a: allianceId });
    showSettlement(data.settlements.edges[0] ? data.settlements.edges[0].node : null);
    state.stops.push(subscribe(`subscription($a: ID!) { settlementUpdated(allianceId: $a) { ${SETTLEMENT_FIELDS} } }`, { a: allianceId }, (d) => showSettlement(d.settlementUpdated)));
  }

  async function signIn(event) {
    event.preventDefault();
    state.token = $('#token').value.trim();
    setStatus('Signing in…', false);
    try {
      const data = await query(`{ me { brand { id name } } alliances(first: 100, status: ACTIVE) { edges { node { id name members { status brand { id name } } } } } }`);
      if (!data.me.brand) throw new Error('This credential belongs to no brand.');
      state.brandId = data.me.brand.id;
      const scope = $('#scope');
      scope.replaceChildren(new Option(`Brand: ${data.me.brand.name}`, ''));
      state.alliances.clear();
      for (const { node } of data.alliances.edges) {
        scope.add(new Option(`Alliance: ${node.name}`, node.id));
        state.alliances.set(node.id, { name: node.name, members: new Map(node.members.map((m) => [m.brand.id, m.brand.name])) });
      }
      if (state.client) state.client.dispose();
      const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
      state.client = window.graphqlWs.createClient({ url, connectionParams: { authorization: authorization() }, retryAttempts: 5 });
      $('#signin').hidden = true;
      $('#signout').hidden = false;
      $('#board').hidden = false;
      await watch();
    } catch (error) {
      setStatus(error.message, true);
    }
  }

  function signOut() {
    stopWatching();
    if (state.client) state.client.dispose();
    state.client = null;
    state.token = null;
    state.brandId = null;
    state.alliances.clear();
    state.budgetCampaigns.clear();
    clearBudget();
    $('#budget-form').hidden = true;
    charts.clear([...document.querySelectorAll('.chart')]);
    $('#token').value = '';
    $('#scope').replaceChildren();
    $('#board').hidden = true;
    $('#signout').hidden = true;
    $('#signin').hidden = false;
    setStatus('Signed out. The credential is forgotten.', false);
  }

  charts.observe([...document.querySelectorAll('.chart')]);
  $('#signin').addEventListener('submit', signIn);
  $('#signout').addEventListener('click', signOut);
  $('#budget-form').addEventListener('submit', suggest);
  $('#scope').addEventListener('change', () => watch().catch((e) => setStatus(e.message, true)));
  $('#window').addEventListener('change', () => watch().catch((e) => setStatus(e.message, true)));
})();
