// The argo-market chart page: one candlestick chart with a volume pane per symbol, fed by the
// server's /feed WebSocket (see src/chart/feed.ts for the messages). Plain ES module, no build.
import { CandlestickSeries, createChart, HistogramSeries } from '/vendor/lightweight-charts.mjs';

const UP = '#26a69a';
const DOWN = '#ef5350';
const TOAST_MS = 6000;

/** symbol -> { bars: closed bars oldest first, forming, candles, volume, chart, lastDrawnMs } */
const views = new Map();
/** connection id -> its latest status */
const connections = new Map();
const errors = [];
/** Every state change seen, oldest first (bounded): lets a test see a brief `reconnecting`. */
const statusLog = [];
let init;
let useUtc = true;
let feedOpen = false;
let toastTimer;

// Read-only hooks for tests and the curious: what is drawn, and the connections' state.
window.argoChart = Object.freeze({
  status: () => ({
    feed: feedOpen ? 'open' : 'closed',
    mode: init?.mode,
    connections: [...connections.values()].map((c) => ({ ...c })),
    log: statusLog.map((entry) => ({ ...entry })),
    errors: errors.map((e) => ({ ...e })),
  }),
  bars: (symbol) => (views.get(symbol)?.bars ?? []).map((bar) => ({ ...bar })),
  forming: (symbol) => {
    const forming = views.get(symbol)?.forming;
    return forming ? { ...forming } : undefined;
  },
});

const formatters = { utc: dateFormatter('UTC'), local: dateFormatter(undefined) };

function dateFormatter(timeZone) {
  const options = { timeZone, hourCycle: 'h23' };
  return {
    full: new Intl.DateTimeFormat('en-CA', {
      ...options,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }),
    time: new Intl.DateTimeFormat('en-GB', { ...options, hour: '2-digit', minute: '2-digit' }),
    day: new Intl.DateTimeFormat('en-GB', { ...options, day: 'numeric', month: 'short' }),
    year: new Intl.DateTimeFormat('en-GB', { ...options, year: 'numeric' }),
  };
}

function formatTime(seconds) {
  const f = useUtc ? formatters.utc : formatters.local;
  return `${f.full.format(new Date(seconds * 1000)).replace(',', '')}${useUtc ? ' UTC' : ''}`;
}

function formatTick(seconds, tickType) {
  const f = useUtc ? formatters.utc : formatters.local;
  const date = new Date(seconds * 1000);
  // TickMarkType: 0 year, 1 month, 2 day of month, 3 time, 4 time with seconds.
  if (tickType === 0) return f.year.format(date);
  if (tickType === 1 || tickType === 2) return f.day.format(date);
  return f.time.format(date);
}

function chartOptions() {
  return {
    autoSize: true,
    layout: {
      background: { color: '#1e222d' },
      textColor: '#d1d4dc',
      panes: { separatorColor: '#2a2e39' },
    },
    grid: { vertLines: { color: '#2a2e39' }, horzLines: { color: '#2a2e39' } },
    localization: { timeFormatter: formatTime },
    timeScale: { timeVisible: true, secondsVisible: true, tickMarkFormatter: formatTick },
  };
}

function viewOf(symbol) {
  let view = views.get(symbol);
  if (view) return view;
  const section = document.createElement('section');
  section.className = 'symbol';
  const title = document.createElement('h2');
  title.textContent = symbol;
  const small = document.createElement('small');
  small.textContent = init?.interval ? ` ${init.interval}` : '';
  title.append(small);
  const container = document.createElement('div');
  container.className = 'chart';
  section.append(title, container);
  document.getElementById('charts').append(section);
  const chart = createChart(container, chartOptions());
  const candles = chart.addSeries(CandlestickSeries, {
    upColor: UP,
    downColor: DOWN,
    borderVisible: false,
    wickUpColor: UP,
    wickDownColor: DOWN,
  });
  const volume = chart.addSeries(HistogramSeries, { priceFormat: { type: 'volume' } }, 1);
  chart.panes()[1]?.setHeight(90);
  view = { bars: [], forming: undefined, candles, volume, chart, lastDrawnMs: undefined, section };
  views.set(symbol, view);
  return view;
}

const candleOf = (bar) => ({
  time: bar.time / 1000,
  open: bar.open,
  high: bar.high,
  low: bar.low,
  close: bar.close,
});
const volumeOf = (bar) => ({
  time: bar.time / 1000,
  value: bar.volume,
  color: bar.close >= bar.open ? `${UP}80` : `${DOWN}80`,
});

/** Redraws everything: after history, or when a bar lands before the newest drawn point. */
function redraw(view) {
  const points = view.forming ? [...view.bars, view.forming] : view.bars;
  view.candles.setData(points.map(candleOf));
  view.volume.setData(points.map(volumeOf));
  view.lastDrawnMs = points.at(-1)?.time;
}

/** Draws one changed point: `update` when it is the newest, else a redraw (never an older update). */
function drawPoint(view, bar) {
  if (view.lastDrawnMs === undefined || bar.time >= view.lastDrawnMs) {
    view.candles.update(candleOf(bar));
    view.volume.update(volumeOf(bar));
    view.lastDrawnMs = bar.time;
  } else {
    redraw(view);
  }
}

/** Puts a closed bar in its place; each open time once. Returns true when it is new or changed. */
function upsert(bars, bar) {
  const last = bars.at(-1);
  if (!last || bar.time > last.time) {
    bars.push(bar);
    return true;
  }
  let lo = 0;
  let hi = bars.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bars[mid].time < bar.time) lo = mid + 1;
    else hi = mid;
  }
  if (bars[lo]?.time === bar.time) bars[lo] = bar;
  else bars.splice(lo, 0, bar);
  return true;
}

function onHistory(message) {
  const view = viewOf(message.symbol);
  for (const bar of message.bars) upsert(view.bars, bar);
  const priceFormat = {
    type: 'price',
    precision: message.decimals,
    minMove: 10 ** -message.decimals,
  };
  view.candles.applyOptions({ priceFormat });
  if (view.forming && view.forming.time <= (view.bars.at(-1)?.time ?? -1)) view.forming = undefined;
  redraw(view);
  view.chart.timeScale().scrollToRealTime();
  renderSummary();
}

function onBar(message) {
  const view = viewOf(message.symbol);
  upsert(view.bars, message.bar);
  if (view.forming && view.forming.time <= message.bar.time) view.forming = undefined;
  drawPoint(view, message.bar);
  renderSummary();
}

function onForming(message) {
  const view = viewOf(message.symbol);
  if (message.bar.time <= (view.bars.at(-1)?.time ?? -1)) return;
  view.forming = message.bar;
  drawPoint(view, message.bar);
}

function onStatus(message) {
  const { connection, state } = message.connection;
  connections.set(connection, message.connection);
  statusLog.push({ connection, state });
  if (statusLog.length > 500) statusLog.shift();
  renderConnections();
}

function onError(message) {
  errors.push({ code: message.code, message: message.message, fatal: message.fatal });
  if (errors.length > 50) errors.shift();
  const toast = document.getElementById('toast');
  toast.textContent = `${message.fatal ? 'stopped' : 'warning'} [${message.code}]: ${message.message}`;
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    toast.hidden = true;
  }, TOAST_MS);
}

function renderConnections() {
  const list = document.getElementById('connections');
  list.replaceChildren(
    ...[...connections.values()].map((c) => {
      const item = document.createElement('li');
      item.className = c.state;
      let text = `${c.connection}: ${c.state}`;
      if (c.state === 'reconnecting') {
        const inSec = Math.max(0, Math.round(((c.nextTryAtMs ?? Date.now()) - Date.now()) / 1000));
        text += ` (attempt ${c.attempt ?? '?'}, next try in ${inSec} s)`;
      }
      item.textContent = text;
      if (c.reason) item.title = c.reason;
      return item;
    }),
  );
}

function renderSummary() {
  const summary = document.getElementById('summary');
  if (init?.mode === 'file' && init.file) {
    const { firstMs, lastMs, count } = init.file;
    const range =
      firstMs === undefined
        ? 'empty'
        : `${formatTime(firstMs / 1000)} … ${formatTime(lastMs / 1000)}`;
    summary.textContent = `${count} bars, ${range}`;
  } else {
    const total = [...views.values()].reduce((n, view) => n + view.bars.length, 0);
    summary.textContent = `${total} closed bars`;
  }
}

function onInit(message) {
  init = message.init;
  document.getElementById('title').textContent = init.title;
  document.title = `${init.title} — argo-market chart`;
  for (const symbol of init.symbols) viewOf(symbol);
  renderSummary();
}

const handlers = {
  init: onInit,
  history: onHistory,
  bar: onBar,
  forming: onForming,
  status: onStatus,
  error: onError,
};

document.getElementById('local-time').addEventListener('change', (event) => {
  useUtc = !event.target.checked;
  for (const view of views.values()) view.chart.applyOptions(chartOptions());
  renderSummary();
});

const feed = new WebSocket(`ws://${location.host}/feed`);
feed.addEventListener('open', () => {
  feedOpen = true;
});
feed.addEventListener('message', (event) => {
  const message = JSON.parse(event.data);
  handlers[message.type]?.(message);
});
feed.addEventListener('close', () => {
  feedOpen = false;
  connections.set('chart server', {
    connection: 'chart server',
    symbols: [],
    state: 'disconnected',
    sinceMs: Date.now(),
  });
  renderConnections();
});
setInterval(renderConnections, 1000);
