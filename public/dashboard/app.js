// Allied live dashboard: signs in with a pasted credential, lets the user pick
// the brand or one of its alliances, and plots the `metrics` subscription as
// it delivers, with the alliance's latest settlement. No build step, no
// framework: graphql-ws (served alongside) and inline SVG.
'use strict';

(function () {
  const MAX_POINTS = 120;
  const METRICS = `subscription($window: MetricsWindow, $allianceId: ID) {
    metrics(window: $window, allianceId: $allianceId) {
      at revenue { amountMinor currency } purchases impressions clicks ctr conversions conversionRate satisfaction ratings
    }
  }`;
  const SETTLEMENT_FIELDS = `id status currency periodStart periodEnd net { amountMinor currency } eventCount
    lines { brand { name } agreementVersion shareBasisPoints amount { amountMinor currency } }`;

  const $ = (selector) => document.querySelector(selector);
  const state = { token: null, client: null, stops: [], series: {} };

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

  /** Minor units as a decimal amount in the currency's own number of digits. */
  function money(m) {
    let digits = 2;
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency: m.currency }).resolvedOptions().maximumFractionDigits;
    } catch (_) { /* an unknown code keeps two digits */ }
    return { value: m.amountMinor / 10 ** digits, text: `${(m.amountMinor / 10 ** digits).toFixed(digits)} ${m.currency}` };
  }

  function plot(metric, value, label) {
    const figure = document.querySelector(`.chart[data-metric="${metric}"]`);
    const output = figure.querySelector('output');
    output.textContent = label;
    output.dataset.raw = value === null ? '' : String(value);
    if (value === null) return;
    const points = (state.series[metric] = (state.series[metric] || []).concat(value).slice(-MAX_POINTS));
    const svg = figure.querySelector('svg');
    const min = Math.min(...points);
    const max = Math.max(...points);
    const span = max - min || Math.abs(max) || 1;
    const xy = points.map((v, i) => [points.length === 1 ? 150 : (i / (points.length - 1)) * 300, 92 - ((v - min) / span) * 84]);
    svg.innerHTML =
      `<polyline points="${xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"></polyline>` +
      `<circle cx="${xy[xy.length - 1][0].toFixed(1)}" cy="${xy[xy.length - 1][1].toFixed(1)}" r="3"></circle>`;
    svg.dataset.points = String(points.length);
  }

  function show(snapshot) {
    const revenue = snapshot.revenue.map(money);
    plot('revenue', revenue.length ? revenue[0].value : 0, revenue.length ? revenue.map((r) => r.text).join(' · ') : '0');
    plot('ctr', snapshot.ctr, `${(snapshot.ctr * 100).toFixed(2)}% (${snapshot.clicks}/${snapshot.impressions})`);
    plot('conversions', snapshot.conversions, String(snapshot.conversions));
    plot('satisfaction', snapshot.satisfaction, snapshot.satisfaction === null ? 'no ratings' : `${(snapshot.satisfaction * 100).toFixed(1)}% (${snapshot.ratings} ratings)`);
    $('#updated').textContent = `updated ${new Date(snapshot.at).toLocaleTimeString()}`;
  }

  function showSettlement(s) {
    const summary = $('#settlement-summary');
    const table = $('#settlement-lines');
    if (!s) {
      summary.textContent = 'No settlement yet.';
      table.hidden = true;
      return;
    }
    summary.textContent = `${s.periodStart.slice(0, 10)} – ${s.periodEnd.slice(0, 10)} · ${s.status} · net ${money(s.net).text} · ${s.eventCount} events`;
    summary.dataset.settlement = s.id;
    table.querySelector('tbody').innerHTML = s.lines
      .map((l) => `<tr><td></td><td>${l.agreementVersion}</td><td>${(l.shareBasisPoints / 100).toFixed(2)}%</td><td>${money(l.amount).text}</td></tr>`)
      .join('');
    // Brand names are user data: set as text, never as markup.
    table.querySelectorAll('tbody tr').forEach((row, i) => (row.firstElementChild.textContent = s.lines[i].brand.name));
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

  async function watch() {
    state.stops.splice(0).forEach((stop) => stop());
    state.series = {};
    document.querySelectorAll('.chart svg').forEach((svg) => {
      svg.innerHTML = '';
      svg.dataset.points = '0';
    });
    const allianceId = $('#scope').value || null;
    const windowName = $('#window').value;
    setStatus('Live.', false);
    state.stops.push(subscribe(METRICS, { window: windowName, allianceId }, (data) => show(data.metrics)));
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
      const data = await query(`{ me { brand { id name } } alliances(first: 100, status: ACTIVE) { edges { node { id name } } } }`);
      if (!data.me.brand) throw new Error('This credential belongs to no brand.');
      const scope = $('#scope');
      scope.innerHTML = '';
      scope.add(new Option(`Brand: ${data.me.brand.name}`, ''));
      for (const { node } of data.alliances.edges) scope.add(new Option(`Alliance: ${node.name}`, node.id));
      if (state.client) state.client.dispose();
      const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
      state.client = window.graphqlWs.createClient({ url, connectionParams: { authorization: authorization() }, retryAttempts: 5 });
      $('#board').hidden = false;
      await watch();
    } catch (error) {
      setStatus(error.message, true);
    }
  }

  $('#signin').addEventListener('submit', signIn);
  $('#scope').addEventListener('change', () => watch().catch((e) => setStatus(e.message, true)));
  $('#window').addEventListener('change', () => watch().catch((e) => setStatus(e.message, true)));
})();
