// The dashboard's browser script. Money and prices arrive as exact decimal strings and are shown
// as they are; only the chart turns them into numbers, to place points on the screen.
'use strict';

(function () {
  var config = { refreshMs: 3000, actionsEnabled: false, temporalConnected: false };
  var timer = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === 'text') node.textContent = attrs[k];
        else if (k === 'className') node.className = attrs[k];
        else node.setAttribute(k, attrs[k]);
      });
    }
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function svgEl(tag, attrs) {
    var node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function time(ms) { return ms == null ? '–' : new Date(ms).toISOString().slice(11, 19); }
  function dateTime(ms) { return ms == null ? '–' : new Date(ms).toISOString().slice(0, 19).replace('T', ' '); }
  function age(ms) {
    if (ms == null) return '–';
    if (ms < 1000) return ms + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    if (ms < 3600000) return Math.floor(ms / 60000) + ' min';
    return Math.floor(ms / 3600000) + ' h';
  }
  function signClass(decimal) {
    if (decimal == null) return '';
    if (decimal.charAt(0) === '-') return 'neg';
    return /[1-9]/.test(decimal) ? 'pos' : '';
  }

  /** A cell: {text, className, num, href, tag} or a plain string. */
  function cell(spec) {
    if (spec == null || typeof spec !== 'object') spec = { text: spec == null ? '–' : String(spec) };
    var td = el('td', { className: (spec.num ? 'num ' : '') + (spec.wrap ? 'wrap ' : '') + (spec.className || '') });
    if (spec.href) td.appendChild(el('a', { href: spec.href, target: '_blank', rel: 'noopener noreferrer', text: spec.text }));
    else if (spec.tag) td.appendChild(el('span', { className: 'tag ' + spec.tag, text: spec.text }));
    else td.textContent = spec.text == null ? '–' : String(spec.text);
    return td;
  }
  function money(decimal) { return { text: decimal == null ? '–' : decimal, num: true, className: signClass(decimal) }; }
  function num(v) { return { text: v == null ? '–' : String(v), num: true }; }

  function fillTable(id, headers, rows, emptyText) {
    var table = clear(document.getElementById(id));
    var head = el('tr');
    headers.forEach(function (h) {
      var numeric = h.charAt(0) === '#';
      head.appendChild(el('th', { className: numeric ? 'num' : '', text: numeric ? h.slice(1) : h }));
    });
    table.appendChild(el('thead', null, [head]));
    var body = el('tbody');
    if (rows.length === 0) {
      body.appendChild(el('tr', null, [el('td', { className: 'empty', colspan: String(headers.length), text: emptyText })]));
    }
    rows.forEach(function (r) { body.appendChild(el('tr', r.attrs || null, r.cells.map(cell))); });
    table.appendChild(body);
  }

  function renderPnl(pnl, positions) {
    var current = document.getElementById('pnl-current');
    current.textContent = pnl.current;
    current.className = 'figure ' + signClass(pnl.current);
    drawChart(document.getElementById('pnl-chart'), pnl.points);
    var t = positions.totals;
    fillTable('pnl-totals', ['#Realized', '#Unrealized', '#Fees', '#Total', '#Open positions'], [
      { cells: [money(t.realizedPnl), money(t.unrealizedPnl), { text: t.fees, num: true }, money(t.totalPnl), num(t.openPositions)] },
    ], '');
  }

  /** The cumulative P&L as an SVG path; axis labels are the API's own decimal strings. */
  function drawChart(container, points) {
    clear(container);
    var W = 900, H = 220, left = 70, right = 16, top = 12, bottom = 26;
    var svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'cumulative P&L' });
    container.appendChild(svg);
    if (!points || points.length === 0) {
      svg.appendChild(svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty', text: 'No fills recorded yet' }));
      return;
    }
    var values = points.map(function (p) { return Number(p.pnl); });
    var lo = Math.min(0, Math.min.apply(null, values));
    var hi = Math.max(0, Math.max.apply(null, values));
    if (hi === lo) { hi = lo + 1; }
    var pad = (hi - lo) * 0.08;
    lo -= pad; hi += pad;
    var t0 = points[0].t, t1 = points[points.length - 1].t;
    if (t1 === t0) t1 = t0 + 1;
    function x(t) { return left + ((t - t0) / (t1 - t0)) * (W - left - right); }
    function y(v) { return top + (1 - (v - lo) / (hi - lo)) * (H - top - bottom); }
    svg.appendChild(svgEl('line', { class: 'axis', x1: left, y1: top, x2: left, y2: H - bottom }));
    svg.appendChild(svgEl('line', { class: 'axis', x1: left, y1: H - bottom, x2: W - right, y2: H - bottom }));
    svg.appendChild(svgEl('line', { class: 'zero', x1: left, y1: y(0), x2: W - right, y2: y(0) }));
    // Labels at zero, the high and the low, each the API's own string; one too close to another is left out.
    var labelled = [y(0)];
    svg.appendChild(svgEl('text', { x: left - 6, y: y(0) + 4, 'text-anchor': 'end', text: '0.00' }));
    var iMax = values.indexOf(Math.max.apply(null, values));
    var iMin = values.indexOf(Math.min.apply(null, values));
    [iMax, iMin].forEach(function (i) {
      var at = y(values[i]);
      if (labelled.some(function (other) { return Math.abs(other - at) < 14; })) return;
      labelled.push(at);
      svg.appendChild(svgEl('text', { x: left - 6, y: at + 4, 'text-anchor': 'end', text: points[i].pnl }));
    });
    svg.appendChild(svgEl('text', { x: left, y: H - 8, 'text-anchor': 'start', text: dateTime(points[0].t) }));
    svg.appendChild(svgEl('text', { x: W - right, y: H - 8, 'text-anchor': 'end', text: dateTime(points[points.length - 1].t) }));
    var d = '';
    if (points.length === 1) {
      d = 'M' + left + ' ' + y(values[0]).toFixed(1) + ' L' + (W - right) + ' ' + y(values[0]).toFixed(1);
    } else {
      // A step line: P&L holds its value until the next fill changes it.
      points.forEach(function (p, i) {
        var px = x(p.t).toFixed(1), py = y(values[i]).toFixed(1);
        if (i === 0) d = 'M' + px + ' ' + py;
        else d += ' L' + px + ' ' + y(values[i - 1]).toFixed(1) + ' L' + px + ' ' + py;
      });
    }
    svg.appendChild(svgEl('path', { id: 'pnl-path', class: 'line', d: d, 'data-points': String(points.length) }));
    var last = points.length - 1;
    svg.appendChild(svgEl('circle', { class: 'dot', cx: x(points[last].t), cy: y(values[last]), r: 3.5 }));
  }

  function renderPositions(p) {
    fillTable('positions-table', ['Market', '#Qty', '#Entry', '#Mark', '#Unrealized', '#Realized', '#Fees', '#Total', 'Marked'],
      p.positions.map(function (r) {
        return {
          attrs: { 'data-market': r.marketId },
          cells: [r.marketId, num(r.quantity), { text: r.averageEntryPrice, num: true }, { text: r.mark, num: true }, money(r.unrealizedPnl), money(r.realizedPnl), { text: r.fees, num: true }, money(r.totalPnl), time(r.markedAt)],
        };
      }), 'No positions');
  }

  function orderRows(list) {
    return list.map(function (o) {
      return {
        attrs: { 'data-order': o.clientOrderId },
        cells: [{ text: o.clientOrderId, href: o.workflowUrl }, o.marketId, o.side, num(o.quantity), num(o.filledQuantity), { text: o.limitPrice, num: true }, { text: o.averageFillPrice, num: true }, { text: o.state, tag: o.state }, age(o.ageMs), { text: o.rejectReason || '', wrap: true }],
      };
    });
  }

  function renderOrders(o) {
    var headers = ['Order (Temporal)', 'Market', 'Side', '#Qty', '#Filled', '#Limit', '#Avg fill', 'State', 'Age', 'Note'];
    fillTable('orders-table', headers, orderRows(o.open), 'No open orders');
    fillTable('recent-orders-table', headers, orderRows(o.recent), 'No orders yet');
  }

  function renderFills(f) {
    fillTable('fills-table', ['Time', 'Order', 'Market', 'Side', '#Qty', '#Price', '#Intended', '#Slippage', '#bps', '#Fee'],
      f.fills.map(function (r) {
        return {
          attrs: { 'data-trade': r.tradeId },
          cells: [time(r.filledAt), { text: r.clientOrderId, href: r.workflowUrl }, r.marketId, r.side, num(r.quantity), { text: r.price, num: true }, { text: r.intendedPrice, num: true },
            { text: r.slippage, num: true, className: r.slippage && r.slippage.charAt(0) !== '-' && /[1-9]/.test(r.slippage) ? 'neg' : '' }, num(r.slippageBps), { text: r.fee, num: true }],
        };
      }), 'No fills yet');
  }

  function renderRisk(r) {
    var box = clear(document.getElementById('risk-bars'));
    r.limits.forEach(function (l) {
      var share = l.utilization == null ? null : Math.min(1, l.utilization);
      var fill = el('div', { className: share == null ? '' : share >= 0.9 ? 'high' : share >= 0.6 ? 'warn' : '' });
      fill.style.width = share == null ? '0%' : (share * 100).toFixed(1) + '%';
      var pct = l.utilization == null ? '' : ' (' + (l.utilization * 100).toFixed(1) + '%)';
      box.appendChild(el('div', { className: 'risk-row', 'data-limit': l.name }, [
        el('div', { className: 'label', text: l.label }, [el('small', { text: l.detail, title: l.detail })]),
        el('div', { className: 'bar' }, [fill]),
        el('div', { className: 'value', text: (l.used == null ? 'per order' : l.used) + ' / ' + l.limit + pct }),
      ]));
    });
  }

  function renderHalts(h) {
    var state = document.getElementById('halt-state');
    state.textContent = h.halted ? 'HALTED: ' + h.trips.map(function (t) { return t.kind + ' (' + t.reason + ')'; }).join('; ') : 'Trading allowed: no breaker tripped';
    state.className = 'state-line ' + (h.halted ? 'halted' : 'ok');
    var badge = document.getElementById('trading-state');
    badge.textContent = h.halted ? 'HALTED' : 'TRADING';
    badge.className = 'badge ' + (h.halted ? 'halted' : 'ok');
    fillTable('trips-table', ['Strategy', 'Breaker', 'Reason', 'By', 'Since'], h.trips.map(function (t) {
      return { cells: [t.strategy, { text: t.kind, tag: 'TRIPPED' }, { text: t.reason, wrap: true }, t.operator || '–', time(t.since)] };
    }), 'No breaker tripped');
    fillTable('sessions-table', ['Session (Temporal)', 'Mode', 'Status', 'Started'], h.sessions.map(function (s) {
      return { cells: [{ text: s.sessionId, href: s.workflowUrl }, s.mode, { text: s.halted ? 'HALTED' : s.status, tag: s.halted ? 'HALT' : s.status }, dateTime(s.startedAt)] };
    }), 'No sessions recorded');
    fillTable('journal-table', ['Time', 'Action', 'Operator', 'Reason', 'Where'], h.journal.map(function (a) {
      var where = a.workflowId.indexOf('dashboard-') === 0 ? 'dashboard' : a.workflowId;
      return { attrs: { 'data-action': a.action, title: a.workflowId }, cells: [time(a.at), { text: a.action, tag: a.action }, a.operator, { text: a.reason, wrap: true }, where] };
    }), 'No operator actions');
  }

  function renderAlerts(a) {
    fillTable('alerts-table', ['Time', 'Level', 'Alert', 'Delivery'], a.alerts.map(function (x) {
      return { cells: [time(x.raisedAt), { text: x.level, tag: x.level }, { text: x.title, wrap: true }, x.delivery] };
    }), 'No alerts');
  }

  function renderFreshness(f) {
    fillTable('freshness-table', ['Market', 'Quote age', '#Bid', '#Ask', 'Mark age', 'Status'], f.markets.map(function (m) {
      return { attrs: { 'data-market': m.marketId }, cells: [m.marketId, age(m.ageMs), { text: m.bid, num: true }, { text: m.ask, num: true }, age(m.markAgeMs), { text: m.status, tag: m.status }] };
    }), f.live ? 'No markets recorded' : 'No live quote source configured');
  }

  // ---- levels of automation: orders awaiting approval ----

  function renderApprovals(a) {
    var table = clear(document.getElementById('approvals-table'));
    var head = el('tr', null, ['Client order ID', 'Market', 'Side', 'Qty', 'Limit', 'Expires', ''].map(function (h) { return el('th', { text: h }); }));
    table.appendChild(el('thead', null, [head]));
    var body = el('tbody');
    if (a.orders.length === 0) {
      body.appendChild(el('tr', null, [el('td', { className: 'empty', colspan: '7', text: a.available ? 'No order awaits an approval' : 'No Temporal client: the orders cannot be reached' })]));
    }
    a.orders.forEach(function (o) {
      var approve = el('button', { type: 'button', className: 'approve-button', 'data-order': o.clientOrderId, text: 'Approve' });
      var reject = el('button', { type: 'button', className: 'reject-button danger', 'data-order': o.clientOrderId, text: 'Reject' });
      approve.addEventListener('click', function () { decide('/api/approve', 'Approve', o.clientOrderId); });
      reject.addEventListener('click', function () { decide('/api/reject', 'Reject', o.clientOrderId); });
      body.appendChild(el('tr', { 'data-order': o.clientOrderId }, [
        el('td', { text: o.clientOrderId }), el('td', { text: o.marketId }), el('td', { text: o.side }),
        el('td', { className: 'num', text: String(o.quantity) }), el('td', { className: 'num', text: o.limitPrice || 'market' }),
        el('td', { text: o.deadlineAt == null ? '–' : time(o.deadlineAt) }), el('td', null, [approve, reject]),
      ]));
    });
    table.appendChild(body);
  }

  function refreshApprovals() {
    return fetch('/api/approvals', { cache: 'no-store' })
      .then(function (res) { if (!res.ok) throw new Error('the server answered ' + res.status); return res.json(); })
      .then(renderApprovals)
      .catch(function () { /* the panel keeps its last list; the main refresh reports the server */ });
  }

  function decide(path, verb, clientOrderId) {
    var result = document.getElementById('approval-result');
    var token = document.getElementById('token').value.trim();
    var headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    var body = { clientOrderId: clientOrderId, operator: document.getElementById('operator').value, reason: document.getElementById('reason').value, requestId: newRequestId() };
    result.textContent = verb + ' ' + clientOrderId + '…';
    result.className = 'action-result';
    return fetch(path, { method: 'POST', headers: headers, body: JSON.stringify(body) })
      .then(function (res) { return res.json().then(function (answer) { return { status: res.status, answer: answer }; }); })
      .then(function (r) {
        result.setAttribute('data-status', String(r.status));
        var outcome = r.answer.outcome || r.answer.error;
        result.textContent = r.status === 200 ? clientOrderId + ': ' + outcome : 'Refused (' + r.status + '): ' + (outcome || '') + (r.answer.reason ? ' – ' + r.answer.reason : r.answer.message ? ' – ' + r.answer.message : '');
        result.className = 'action-result ' + (r.status === 200 ? 'ok' : 'fail');
        return refreshApprovals();
      })
      .catch(function (e) {
        result.textContent = verb + ' failed: ' + e.message;
        result.className = 'action-result fail';
      });
  }

  function showError(message) {
    var box = document.getElementById('load-error');
    box.hidden = !message;
    box.textContent = message || '';
  }

  function refresh() {
    return fetch('/api/state', { cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error('the server answered ' + res.status);
        return res.json();
      })
      .then(function (s) {
        document.getElementById('trading-day').textContent = s.tradingDay;
        document.getElementById('updated').textContent = time(s.at) + ' UTC';
        renderPnl(s.pnl, s.positions);
        renderPositions(s.positions);
        renderOrders(s.orders);
        renderFills(s.fills);
        renderRisk(s.risk);
        renderHalts(s.halts);
        renderAlerts(s.alerts);
        renderFreshness(s.freshness);
        refreshApprovals();
        document.body.setAttribute('data-loaded', String(s.at));
        showError(null);
      })
      .catch(function (e) { showError('Could not refresh: ' + e.message); })
      .then(function () {
        clearTimeout(timer);
        timer = setTimeout(refresh, config.refreshMs);
      });
  }

  function newRequestId() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function act(path, verb) {
    var result = document.getElementById('action-result');
    var token = document.getElementById('token').value.trim();
    var headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    var body = { operator: document.getElementById('operator').value, reason: document.getElementById('reason').value, requestId: newRequestId() };
    if (path === '/api/halt' && document.getElementById('cancel-orders').checked) body.cancelOrders = true;
    result.textContent = verb + '…';
    result.className = 'action-result';
    return fetch(path, { method: 'POST', headers: headers, body: JSON.stringify(body) })
      .then(function (res) {
        return res.json().then(function (answer) { return { status: res.status, answer: answer }; });
      })
      .then(function (r) {
        result.setAttribute('data-status', String(r.status));
        if (r.status === 202) {
          result.textContent = verb + ' sent to ' + r.answer.signalled.join(', ') + ' and journaled';
          result.className = 'action-result ok';
        } else if (r.answer && typeof r.answer.summary === 'string' && Array.isArray(r.answer.targets)) {
          // The desk control's answer: its summary, then what each session and order said.
          result.textContent = verb + ': ' + r.answer.summary + ' | ' + r.answer.targets.map(function (t) { return t.workflowId + ' ' + t.outcome + ' (' + t.reason + ')'; }).join('; ');
          result.className = r.status === 200 ? 'action-result ok' : 'action-result fail';
        } else if (r.status === 200 && r.answer.replayed) {
          result.textContent = verb + ' was already sent under this request (' + (r.answer.outcome || 'journaled') + '); nothing sent again';
          result.className = 'action-result ok';
        } else {
          result.textContent = 'Refused (' + r.status + '): ' + (r.answer.message || r.answer.error);
          result.className = 'action-result fail';
        }
        return refresh();
      })
      .catch(function (e) {
        result.textContent = verb + ' failed: ' + e.message;
        result.className = 'action-result fail';
      });
  }

  function start() {
    document.getElementById('halt-button').addEventListener('click', function () { act('/api/halt', 'Halt'); });
    document.getElementById('resume-button').addEventListener('click', function () { act('/api/resume', 'Resume'); });
    document.getElementById('kill-button').addEventListener('click', function () { act('/api/kill', 'Kill switch'); });
    fetch('/api/config', { cache: 'no-store' })
      .then(function (res) { return res.json(); })
      .then(function (c) {
        config = c;
        var notes = [];
        if (!c.actionsEnabled) notes.push('Actions are off: the dashboard runs without DASHBOARD_TOKEN.');
        if (!c.temporalConnected) notes.push('No Temporal client: halts cannot reach the sessions.');
        if (c.actionsEnabled && c.temporalConnected) notes.push('Halt, resume and the kill switch need the dashboard token; each action is journaled.');
        document.getElementById('actions-note').textContent = notes.join(' ');
      })
      .catch(function () { /* the defaults stand */ })
      .then(refresh);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
