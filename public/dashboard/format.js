// Allied dashboard: numbers, money and times as the reader's locale writes
// them, with units and the time zone always said.
'use strict';

(function () {
  const locale = navigator.language || 'en';
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const digitsCache = new Map();
  const numberCache = new Map();

  /** How many minor units a currency has (2 for an unknown code). */
  function currencyDigits(currency) {
    if (!digitsCache.has(currency)) {
      let digits = 2;
      try {
        digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
      } catch (_) { /* an unknown code keeps two digits */ }
      digitsCache.set(currency, digits);
    }
    return digitsCache.get(currency);
  }

  function fixed(value, digits) {
    const key = digits;
    if (!numberCache.has(key)) numberCache.set(key, new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }));
    return numberCache.get(key).format(value);
  }

  /** A Money ({ amountMinor, currency }) as its major-unit value and text: "27,213.00 USD". */
  function money(m) {
    const digits = currencyDigits(m.currency);
    const value = m.amountMinor / 10 ** digits;
    return { value, currency: m.currency, text: `${fixed(value, digits)} ${m.currency}` };
  }

  const count = (n) => fixed(n, 0);
  /** "1 rating", "2,000 ratings". */
  const counted = (n, noun) => `${count(n)} ${noun}${n === 1 ? '' : 's'}`;
  /** A 0..1 rate as a percentage: 0.3345 → "33.45%". */
  const percent = (rate, digits = 1) => `${fixed(rate * 100, digits)}%`;
  /** A difference of rates in percentage points: 0.021 → "+2.1 pp". */
  const points = (delta, digits = 1) => `${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${fixed(Math.abs(delta) * 100, digits)} pp`;

  const instant = new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
  const minute = new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
  /** "Dec 3, 2026, 12:01:02 PM UTC": date, time and zone. */
  const dateTime = (iso) => instant.format(new Date(iso));
  /** The same to the minute, for period boundaries. */
  const dateMinute = (iso) => minute.format(new Date(iso));

  window.alliedFormat = { locale, zone, currencyDigits, money, count, counted, percent, points, fixed, dateTime, dateMinute };
})();
