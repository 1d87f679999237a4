// Allied dashboard charts, drawn by uPlot (served by this server). Every chart
// has labelled axes with units, a legend, a scale that starts at zero (rates
// and counts) or is symmetric about it (differences), an empty state that says
// what to do, and the plotted values in a table beside it for screen readers
// and for anyone who wants the numbers.
'use strict';

(function () {
  const f = window.alliedFormat;
  const COLORS = ['#1f6feb', '#d9480f', '#2f9e44', '#9c36b5', '#e8590c', '#0c8599', '#5c940d', '#c2255c'];
  const HEIGHT = 220;
  const plots = new WeakMap();

  /** The smallest 1, 2 or 5 × 10^k at or above v (1 for nothing to show). */
  function niceCeil(v) {
    if (!(v > 0)) return 1;
    const exp = 10 ** Math.floor(Math.log10(v));
    const m = v / exp;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * exp;
  }

  /**
   * The y range of a unit: counts and money from zero to a round number above
   * the largest value; rates from zero to a round number, at most 100%;
   * satisfaction 0–100% always; differences symmetric about zero.
   */
  function range(unit, values) {
    const present = values.filter((v) => v !== null && v !== undefined && Number.isFinite(v));
    const max = present.length ? Math.max(...present) : 0;
    if (unit === 'satisfaction') return [0, 1];
    if (unit === 'rate') return [0, Math.min(1, niceCeil(max))];
    if (unit === 'points') {
      const m = Math.min(1, niceCeil(present.length ? Math.max(...present.map(Math.abs)) : 0));
      return [-m, m];
    }
    return [0, niceCeil(max)];
  }

  function formatter(unit) {
    if (unit === 'rate' || unit === 'satisfaction') return (v) => f.percent(v, v !== 0 && Math.abs(v) < 0.1 ? 1 : 0);
    if (unit === 'points') return (v) => (v === 0 ? '0 pp' : f.points(v, Math.abs(v) < 0.1 ? 1 : 0));
    if (unit === 'money') return (v) => (Math.abs(v) >= 10_000 ? new Intl.NumberFormat(f.locale, { notation: 'compact', maximumFractionDigits: 1 }).format(v) : f.fixed(v, v % 1 ? 2 : 0));
    return (v) => f.count(v);
  }

  /** How a value reads in the legend and the table. */
  function valueText(unit, v, currency) {
    if (v === null || v === undefined) return '—';
    if (unit === 'rate' || unit === 'satisfaction') return f.percent(v, 2);
    if (unit === 'points') return f.points(v, 2);
    if (unit === 'money') return `${f.fixed(v, f.currencyDigits(currency))} ${currency}`;
    return f.count(v);
  }

  function part(figure, tag, className) {
    let el = figure.querySelector(`:scope > .${className}`);
    if (!el) {
      el = document.createElement(tag);
      el.className = className;
      figure.append(el);
    }
    return el;
  }

  function table(figure, spec) {
    const details = part(figure, 'details', 'data');
    if (!details.firstChild) details.innerHTML = '<summary>Plotted values</summary><table><thead><tr></tr></thead><tbody></tbody></table>';
    const head = details.querySelector('thead tr');
    const body = details.querySelector('tbody');
    head.replaceChildren(...[spec.xLabel, ...spec.series.map((s) => s.label)].map((text) => Object.assign(document.createElement('th'), { textContent: text })));
    body.replaceChildren(
      ...spec.x.map((x, i) => {
        const row = document.createElement('tr');
        const label = spec.categories ? spec.categories[i] : f.dateMinute(x * 1000);
        row.append(Object.assign(document.createElement('th'), { textContent: label, scope: 'row' }));
        for (const s of spec.series) {
          const cell = document.createElement('td');
          cell.textContent = valueText(s.unit, s.values[i], s.currency);
          cell.dataset.raw = s.values[i] === null || s.values[i] === undefined ? '' : String(s.values[i]);
          row.append(cell);
        }
        return row;
      }),
    );
  }

  function axis(scale, spec, side) {
    const unit = spec.units[scale];
    return {
      scale,
      side,
      label: spec.labels[scale],
      labelSize: 18,
      size: 64,
      grid: { show: side === 3, stroke: '#eef0f3' },
      incrs: unit === 'count' ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8] : undefined,
      values: (u, splits) => splits.map(formatter(unit)),
    };
  }

  /** The index of the last x with a value in any series, for the legend to show when the cursor is away. */
  function lastIndex(panel, n) {
    for (let i = n - 1; i >= 0; i--) if (panel.series.some((s) => s.values[i] !== null && s.values[i] !== undefined)) return i;
    return null;
  }

  /** One uPlot chart of a panel (a y axis or two and their series) in `plot`. */
  function drawPanel(plot, spec, panel, colorOffset) {
    const bars = spec.kind === 'bars';
    const scales = { x: bars ? { time: false, range: [-0.5, spec.x.length - 0.5] } : { time: true } };
    for (const scale of Object.keys(panel.units)) {
      const [min, max] = range(panel.units[scale], panel.series.filter((s) => (s.scale || 'y') === scale).flatMap((s) => s.values));
      scales[scale] = { range: [min, max] };
      plot.dataset[`${scale}Min`] = String(min);
      plot.dataset[`${scale}Max`] = String(max);
    }
    const axes = [
      bars
        ? {
            label: spec.xLabel,
            labelSize: 18,
            splits: () => spec.x,
            values: (u, splits) => splits.map((i) => spec.categories[i] || ''),
            grid: { show: false },
            // Category names turn on a narrow chart (a phone) instead of running into each other.
            ...(plot.clientWidth / Math.max(1, spec.x.length) < 90 ? { rotate: -40, size: 72 } : {}),
          }
        : { label: spec.xLabel, labelSize: 18, grid: { stroke: '#eef0f3' } },
      axis('y', panel, 3),
    ];
    if (panel.units.y2) axes.push(axis('y2', panel, 1));
    const series = [
      { label: spec.xLabel, value: (u, v) => (v === null ? '—' : bars ? spec.categories[v] : f.dateMinute(v * 1000)) },
      ...panel.series.map((s, i) => {
        const color = COLORS[(colorOffset + i) % COLORS.length];
        return {
          label: s.label,
          scale: s.scale || 'y',
          stroke: color,
          width: 2,
          fill: bars ? `${color}cc` : undefined,
          points: { show: !bars && spec.x.length < 60 },
          paths: bars ? uPlot.paths.bars({ size: [0.38, 64], align: panel.series.length > 1 ? (i % 2 ? 1 : -1) : 0 }) : undefined,
          value: (u, v) => valueText(s.unit, v, s.currency),
        };
      }),
    ];
    // Away from the cursor the legend reads the latest values, not dashes.
    const latest = bars ? null : lastIndex(panel, spec.x.length);
    const rest = (u) => u.cursor.idx === null && latest !== null && u.setLegend({ idx: latest });
    const width = Math.max(260, plot.clientWidth);
    return new uPlot(
      { width, height: HEIGHT, scales, axes, series, legend: { live: !bars }, hooks: { ready: [rest], setCursor: [rest] } },
      [spec.x, ...panel.series.map((s) => s.values)],
      plot,
    );
  }

  /**
   * Draws a chart in a figure. spec: { kind: 'time' | 'bars', x (epoch
   * seconds, or indices with categories), categories?, xLabel, units: { y,
   * y2? }, labels: { y, y2? }, series: [{ label, values, scale?, unit,
   * currency? }], empty (the message when there is nothing to plot) }, or,
   * for series that share no unit (amounts in different currencies), panels:
   * [{ units, labels, series }], one chart each above the other.
   */
  function draw(figure, spec) {
    destroy(figure);
    const panels = spec.panels || [spec];
    const all = panels.flatMap((p) => p.series);
    const empty = part(figure, 'p', 'empty');
    const nothing = spec.x.length === 0 || all.length === 0 || all.every((s) => s.values.every((v) => v === null || v === undefined || v === 0));
    figure.dataset.points = String(spec.x.length);
    figure.dataset.series = all.map((s) => s.label).join('|');
    table(figure, { ...spec, series: all });
    empty.textContent = nothing ? spec.empty : '';
    empty.hidden = !nothing;
    figure.classList.toggle('is-empty', nothing);
    if (nothing) return;
    const instances = [];
    let colors = 0;
    for (const panel of panels) {
      const plot = document.createElement('div');
      plot.className = 'plot';
      figure.insertBefore(plot, empty);
      instances.push(drawPanel(plot, spec, panel, colors));
      colors += panel.series.length;
    }
    // The figure carries its first panel's scale, for readers of a one-panel chart.
    for (const key of Object.keys(figure.querySelector(':scope > .plot').dataset)) figure.dataset[key] = figure.querySelector(':scope > .plot').dataset[key];
    plots.set(figure, instances);
  }

  function destroy(figure) {
    (plots.get(figure) || []).forEach((plot) => plot.destroy());
    plots.delete(figure);
    figure.querySelectorAll(':scope > .plot').forEach((el) => el.remove());
  }

  /** Empties every chart, as on sign-out or a change of scope. */
  function clear(figures) {
    for (const figure of figures) {
      destroy(figure);
      figure.querySelectorAll(':scope > .empty, :scope > .data').forEach((el) => el.remove());
      for (const key of Object.keys(figure.dataset)) if (key !== 'chart') delete figure.dataset[key];
    }
  }

  // Charts follow their figure's width (a phone turned, a window resized).
  const resize = new ResizeObserver((entries) => {
    for (const entry of entries) {
      for (const plot of plots.get(entry.target) || []) {
        const width = plot.root.parentElement.clientWidth;
        if (width && Math.abs(width - plot.width) > 4) plot.setSize({ width, height: HEIGHT });
      }
    }
  });
  const observe = (figures) => figures.forEach((figure) => resize.observe(figure));

  window.alliedCharts = { draw, clear, observe, range, niceCeil };
})();
