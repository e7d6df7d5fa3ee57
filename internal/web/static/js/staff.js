// Finance and ops screens of the workbench: payroll months, holds, approval and rejections for
// finance; project progress, pause/resume/cancel and the roster for ops. Everything is built
// with LF.el (never HTML from data) and every visible string comes from the staff catalogue.
(function () {
  'use strict';
  var LF = window.LF;
  if (!LF) {
    return;
  }

  // How often the ops screens refresh while the page is visible.
  var REFRESH_MS = 5000;
  // Long lists (roster, live chunks) are cut to this many rows; a filter finds the rest.
  var SHOWN_ROWS = 100;

  LF.nav('nav-finance', 'staff.nav.finance', '#/finance', ['finance']);
  LF.nav('nav-ops', 'staff.nav.ops', '#/ops', ['ops']);
  LF.nav('nav-roster', 'staff.nav.roster', '#/roster', ['ops']);

  LF.route('finance', function (root, args) {
    if (!allowed(root, 'finance')) {
      return;
    }
    if (args && args[0]) {
      return monthScreen(root, args[0]);
    }
    return payrollScreen(root);
  });

  LF.route('ops', function (root, args) {
    if (!allowed(root, 'ops')) {
      return;
    }
    // The screen returns its clean-up: the refresh stops when the person leaves it.
    if (args && args[0]) {
      return projectScreen(root, args[0]);
    }
    return projectsScreen(root);
  });

  LF.route('roster', function (root) {
    if (allowed(root, 'ops')) {
      rosterScreen(root);
    }
  });

  // ---- building blocks -------------------------------------------------------------------

  function t(key, params) {
    return LF.t('staff.' + key, params);
  }

  // known reports whether the catalogue has key: LF.t answers the key itself when it does not.
  function known(key) {
    var s = LF.t(key);
    return typeof s === 'string' && s !== '' && s !== key;
  }

  // h is LF.el that skips empty children and flattens lists, so screens can be written as
  // one expression with optional parts.
  function h(tag, attrs) {
    var kids = [];
    for (var i = 2; i < arguments.length; i++) {
      collect(kids, arguments[i]);
    }
    return LF.el.apply(null, [tag, attrs || {}].concat(kids));
  }

  function collect(kids, k) {
    if (k === null || k === undefined || k === false) {
      return;
    }
    if (Array.isArray(k)) {
      k.forEach(function (x) { collect(kids, x); });
    } else {
      kids.push(typeof k === 'number' ? String(k) : k);
    }
  }

  // fill replaces what box shows.
  function fill(box) {
    box.textContent = '';
    for (var i = 1; i < arguments.length; i++) {
      var kids = [];
      collect(kids, arguments[i]);
      kids.forEach(function (k) { box.append(k); });
    }
    return box;
  }

  var lastID = 0;
  function uid(prefix) {
    lastID += 1;
    return 'staff-' + prefix + '-' + lastID;
  }

  // field is a labelled form control: every control on these screens has its label.
  function field(labelKey, control, hintKey) {
    if (!control.id) {
      control.id = uid('field');
    }
    var hint = null;
    if (hintKey) {
      hint = h('div', { id: control.id + '-hint', class: 'hint' }, t(hintKey));
      control.setAttribute('aria-describedby', hint.id);
    }
    // Label, control and hint on lines of their own, the way a phone shows them best.
    return h('div', { class: 'field' }, h('div', {}, h('label', { for: control.id }, t(labelKey))), h('div', {}, control), hint);
  }

  function input(name, type) {
    return h('input', { type: type || 'text', name: name, autocomplete: 'off' });
  }

  function textarea(name, required) {
    return h('textarea', { name: name, rows: '2', required: !!required });
  }

  function button(key, attrs, onclick) {
    var b = h('button', Object.assign({ type: 'button' }, attrs || {}), t(key));
    if (onclick) {
      b.addEventListener('click', onclick);
    }
    return b;
  }

  function link(hash, text) {
    return h('a', { href: hash }, text);
  }

  // facts is a list of figures, each [label key, value, id of the value], as the shell's
  // .facts grid shows them.
  function facts(attrs, rows) {
    return h('dl', Object.assign({ class: 'facts' }, attrs), rows.map(function (r) {
      return h('div', {}, h('dt', {}, t(r[0])), h('dd', r[2] ? { id: r[2] } : {}, r[1]));
    }));
  }

  // cards lists items as cards, without the bullets of a list.
  function cards(extraClass, items) {
    var list = h('ul', { class: ('cards ' + extraClass).trim() }, items);
    list.style.listStyle = 'none';
    list.style.padding = '0';
    return list;
  }

  function loading() {
    return h('p', { class: 'loading', role: 'status' }, t('loading'));
  }

  // scroller lets a wide table scroll sideways on a phone instead of widening the page.
  function scroller(table) {
    var box = h('div', { class: 'table-wrap' }, table);
    box.style.overflowX = 'auto';
    box.style.maxWidth = '100%';
    return box;
  }

  // allowed shows "not allowed" to anyone without role; the server refuses them anyway.
  function allowed(root, role) {
    var p = LF.session && LF.session.person;
    if (p && p.role === role) {
      return true;
    }
    root.append(h('section', { class: 'staff' },
      h('h1', {}, t('notAllowed.title')),
      h('p', { id: 'not-allowed', class: 'notice', role: 'alert' }, t('notAllowed.text'))));
    return false;
  }

  // describe says in plain words why a request failed: the server's own message, and when to
  // try again when it is busy.
  function describe(err) {
    if (!err || !err.status) {
      return t('error.network');
    }
    var msg = err.message || t('error.status', { status: err.status });
    if (err.status === 503) {
      msg += ' ' + (err.retryAfter ? t('error.retryAfter', { seconds: err.retryAfter }) : t('error.retryLater'));
    }
    return msg;
  }

  function errorBox(err) {
    return h('p', { class: 'error', role: 'alert' }, describe(err));
  }

  // load runs a GET and fills box with what render makes of the answer, or the error; nothing
  // happens once view has left the page.
  function load(view, box, path, render) {
    return LF.api('GET', path).then(function (data) {
      if (view.isConnected) {
        fill(box, render(data || {}));
      }
    }, function (err) {
      if (view.isConnected) {
        fill(box, errorBox(err));
      }
    });
  }

  // every calls fn every REFRESH_MS while view is on the page and the page is visible; hidden
  // pages make no requests and refresh at once when they are shown again. It returns stop.
  function every(view, fn) {
    var timer = 0;
    var running = false;
    var stopped = false;
    function stop() {
      stopped = true;
      clearTimeout(timer);
      timer = 0;
      document.removeEventListener('visibilitychange', onVisibility);
    }
    function schedule() {
      running = false;
      if (stopped || !view.isConnected) {
        stop();
      } else if (!timer && document.visibilityState !== 'hidden') {
        timer = setTimeout(tick, REFRESH_MS);
      }
    }
    function tick() {
      timer = 0;
      if (stopped || !view.isConnected) {
        stop();
        return;
      }
      if (running || document.visibilityState === 'hidden') {
        return;
      }
      running = true;
      Promise.resolve(fn()).then(schedule, schedule);
    }
    function onVisibility() {
      if (stopped || !view.isConnected) {
        stop();
      } else if (document.visibilityState === 'visible') {
        clearTimeout(timer);
        tick();
      }
    }
    document.addEventListener('visibilitychange', onVisibility);
    schedule();
    return stop;
  }

  // ask opens, in host, a short form asking for a reason (or note, or nothing when o.noReason)
  // and a confirmation; confirm sends it and returns a promise. Errors stay in the form so the
  // person can try again. One question at a time: opening one closes any other.
  function ask(host, o) {
    Array.prototype.forEach.call(document.querySelectorAll('form.ask'), function (f) { f.remove(); });
    var reason = textarea('reason', o.required);
    var send = button(o.confirmKey, { type: 'submit', class: 'confirm' + (o.danger ? ' danger' : ''), id: o.confirmID || uid('confirm') });
    var back = button('action.back', { class: 'secondary back' });
    var problem = h('div', { class: 'problem' });
    var form = h('form', { class: 'ask', novalidate: true },
      o.prompt ? h('p', { class: 'prompt' }, o.prompt) : null,
      o.noReason ? null : field(o.labelKey || 'field.reason', reason, o.hintKey),
      problem,
      h('div', { class: 'actions' }, send, back));
    back.addEventListener('click', function () { form.remove(); });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var text = reason.value.trim();
      if (o.required && !text) {
        fill(problem, h('p', { class: 'error', role: 'alert' }, t('error.reasonNeeded')));
        reason.focus();
        return;
      }
      send.disabled = true;
      back.disabled = true;
      Promise.resolve(o.confirm(text)).then(function () {
        form.remove();
      }, function (err) {
        send.disabled = false;
        back.disabled = false;
        fill(problem, errorBox(err));
      });
    });
    fill(host, form);
    (o.noReason ? send : reason).focus();
    return form;
  }

  // ---- formatting ------------------------------------------------------------------------

  function number(n) {
    return LF.number(n);
  }

  function percent(f) {
    return LF.number(f, { style: 'percent', maximumFractionDigits: 1 });
  }

  function monthName(month) {
    return LF.month(month);
  }

  // amounts lists a currency → minor units map as money.
  function amounts(map) {
    var keys = Object.keys(map || {}).sort();
    if (!keys.length) {
      return '—';
    }
    return keys.map(function (cur) { return LF.money(map[cur], cur); }).join(' · ');
  }

  // word translates a value the server sends as a code (a stage, a role), falling back to the
  // code itself for one the catalogue does not know yet.
  function word(group, code) {
    var key = 'staff.' + group + '.' + code;
    return known(key) ? LF.t(key) : String(code);
  }

  function yesNo(b) {
    return t(b ? 'yes' : 'no');
  }

  // workflowStatus turns the status of a project's workflow (Running, ContinuedAsNew, or
  // WORKFLOW_EXECUTION_STATUS_RUNNING) into a word.
  function workflowStatus(s) {
    var code = snake(String(s || '').replace(/^WORKFLOW_EXECUTION_STATUS_/, ''));
    return code ? word('wfstatus', code) : '';
  }

  function snake(k) {
    return String(k).replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  }

  function fieldName(k) {
    var key = 'staff.field.' + snake(k);
    return known(key) ? LF.t(key) : String(k).replace(/_/g, ' ');
  }

  // Fields holding a share between 0 and 1 (agreement, arbitration_rate, gold_accuracy).
  var ratioField = /(^|_)(agreement|rate|accuracy|acceptance)$/;
  var isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;

  // value formats one scalar of a report for people: ratios as percentages, times as dates.
  function value(k, v) {
    if (v === null || v === undefined || v === '') {
      return '—';
    }
    if (typeof v === 'boolean') {
      return yesNo(v);
    }
    if (k === 'stage' && typeof v === 'string') {
      return word('projectStage', v);
    }
    if (k === 'status' && typeof v === 'string') {
      return workflowStatus(v);
    }
    if (typeof v === 'number') {
      return ratioField.test(snake(k)) && v >= 0 && v <= 1 ? percent(v) : number(v);
    }
    if (typeof v === 'string' && isoTime.test(v)) {
      return v.indexOf('0001-01-01') === 0 ? '—' : LF.date(v);
    }
    if (Array.isArray(v)) {
      return v.length ? v.map(function (x) { return value(k, x); }).join(', ') : '—';
    }
    if (typeof v === 'object') {
      return Object.keys(v).map(function (sub) { return fieldName(sub) + ': ' + value(sub, v[sub]); }).join('; ');
    }
    return String(v);
  }

  function isScalar(v) {
    return v === null || typeof v !== 'object' || (Array.isArray(v) && v.every(function (x) { return x === null || typeof x !== 'object'; }));
  }

  function flat(v) {
    return isScalar(v) || (isRecord(v) && Object.keys(v).every(function (k) { return isScalar(v[k]); }));
  }

  function isRecord(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  }

  // keyValues is a two-column table of an object's scalar fields.
  function keyValues(obj, captionText) {
    // A titled table is a part of a report: small records in it (a total's webhooks) are shown
    // inline; at the top they have tables of their own.
    var shown = captionText ? flat : isScalar;
    var rows = Object.keys(obj).filter(function (k) { return shown(obj[k]); }).map(function (k) {
      return h('tr', {}, h('th', { scope: 'row' }, fieldName(k)), h('td', {}, value(k, obj[k])));
    });
    if (!rows.length) {
      return null;
    }
    return scroller(h('table', { class: 'kv' }, captionText ? h('caption', {}, captionText) : null, h('tbody', {}, rows)));
  }

  // rowsTable is a table of records, one column per field found, keyed by keyName when the
  // records came from a map.
  function rowsTable(records, keyName, captionText) {
    var cols = [];
    var nested = [];
    records.forEach(function (r) {
      Object.keys(r.value).forEach(function (k) {
        if (!flat(r.value[k]) && nested.indexOf(k) < 0) {
          nested.push(k);
        }
        if (cols.indexOf(k) < 0) {
          cols.push(k);
        }
      });
    });
    // Records inside records (a chunk's people) would make cells of unreadable length.
    cols = cols.filter(function (c) { return nested.indexOf(c) < 0; });
    var shown = records.slice(0, SHOWN_ROWS);
    var head = h('tr', {}, keyName ? h('th', { scope: 'col' }, fieldName(keyName)) : null,
      cols.map(function (c) { return h('th', { scope: 'col' }, fieldName(c)); }));
    var body = shown.map(function (r) {
      return h('tr', {}, keyName ? h('th', { scope: 'row' }, r.key) : null,
        cols.map(function (c) { return h('td', {}, value(c, r.value[c])); }));
    });
    return h('div', { class: 'records' },
      scroller(h('table', { class: 'rows' }, h('caption', {}, captionText), h('thead', {}, head), h('tbody', {}, body))),
      records.length > shown.length ? h('p', { class: 'hint' }, t('rowsCut', { shown: shown.length, total: records.length })) : null);
  }

  // report shows whatever a JSON report holds: its figures as a table, then a table for each
  // list or map of records in it. New fields appear without a change here.
  function report(obj) {
    var parts = [keyValues(obj)];
    Object.keys(obj).forEach(function (k) {
      var v = obj[k];
      if (isScalar(v)) {
        return;
      }
      if (Array.isArray(v)) {
        if (v.some(function (x) { return x !== null && typeof x === 'object'; })) {
          var records = v.map(function (x, i) { return { key: String(i), value: isRecord(x) ? x : { value: x } }; });
          var named = records.every(function (r) { return 'chunk' in r.value || 'id' in r.value; });
          parts.push(rowsTable(records, named ? null : 'index', fieldName(k)));
        }
        return;
      }
      var keys = Object.keys(v);
      if (!keys.length) {
        return;
      }
      if (keys.every(function (sub) { return isRecord(v[sub]); })) {
        parts.push(rowsTable(keys.sort().map(function (sub) { return { key: sub, value: v[sub] }; }), 'key', fieldName(k)));
      } else {
        parts.push(keyValues(v, fieldName(k)));
      }
    });
    return parts;
  }

  // ---- finance: payroll months -----------------------------------------------------------

  function payrollScreen(root) {
    var months = h('div', { class: 'payroll-months' }, loading());
    var rejections = h('div', { class: 'rejection-list' }, loading());
    var view = h('section', { class: 'staff finance' },
      h('h1', {}, t('finance.title')),
      months,
      h('h2', { id: 'rejections-title' }, t('reject.title')),
      h('p', { class: 'hint' }, t('reject.intro')),
      rejectForm(function () { loadRejections(view, rejections); }),
      rejections);
    root.append(view);
    load(view, months, '/v1/payroll', monthList);
    loadRejections(view, rejections);
  }

  function monthList(data) {
    var months = data.months || [];
    if (!months.length) {
      return h('p', { id: 'payroll-empty', class: 'notice' }, t('finance.noMonths'));
    }
    return cards('', months.map(function (m) {
      var held = heldPeople(m);
      return h('li', { class: 'payroll-month card', 'data-month': m.month },
        h('h2', {}, link('#/finance/' + m.month, monthName(m.month))),
        h('p', {}, h('span', { class: 'badge stage-' + m.stage }, word('payrollStage', m.stage))),
        m.approver ? h('p', {}, t('finance.approvedBy', { person: m.approver })) : null,
        m.error ? h('p', { class: 'error' }, m.error) : null,
        held.length ? h('p', {}, t('finance.heldCount', { count: held.length })) : null);
    }));
  }

  // heldPeople reads a payroll's holds with their reasons, or else the people it holds.
  function heldPeople(p) {
    if (p.holds && p.holds.length) {
      return p.holds;
    }
    return (p.held || []).map(function (x) {
      return typeof x === 'string' ? { person: x } : x;
    });
  }

  // ---- finance: one month ----------------------------------------------------------------

  function monthScreen(root, month) {
    var body = h('div', { class: 'month-body' }, loading());
    var view = h('section', { class: 'staff finance-month', 'data-month': month },
      h('p', {}, link('#/finance', t('finance.back'))),
      h('h1', {}, t('finance.monthTitle', { month: monthName(month) })),
      body);
    root.append(view);
    var stage = '';
    function reload() {
      return load(view, body, '/v1/payroll/' + encodeURIComponent(month), function (data) {
        stage = (data.payroll || {}).stage || '';
        return monthBody(month, data, reload);
      });
    }
    reload();
    // While the payroll works on its own (adding up, paying) the page follows it; at other
    // stages it waits for finance, and a refresh would only clear a form being filled.
    return every(view, function () {
      return transitional.indexOf(stage) >= 0 ? reload() : null;
    });
  }

  var transitional = ['aggregating', 'waiting-for-ledger', 'paying'];

  function monthBody(month, data, reload) {
    var p = data.payroll || {};
    var sum = data.summary;
    var awaiting = p.stage === 'awaiting-approval';
    return [
      facts({ id: 'payroll-facts', 'data-stage': p.stage || '' }, [
        ['finance.stage', word('payrollStage', p.stage), 'payroll-stage'],
        ['finance.approver', p.approver || t('finance.notApproved'), 'payroll-approver']]),
      p.error ? h('p', { class: 'error', role: 'alert' }, p.error) : null,
      awaiting ? approveBox(month, sum, reload) : null,
      sum ? summaryView(sum) : h('p', { class: 'notice', id: 'summary-pending' }, t('finance.noSummary')),
      holdsView(month, p, sum, awaiting, reload)
    ];
  }

  // approveBox approves in two steps: the button opens a confirmation with the month's totals
  // and an optional note.
  function approveBox(month, sum, reload) {
    var host = h('div', { class: 'ask-host' });
    var prompt = t('finance.approveConfirm', { month: monthName(month), people: number(sum ? sum.people : 0) });
    if (sum && sum.pay_totals) {
      prompt += ' ' + t('finance.approveTotals', { totals: amounts(sum.pay_totals) });
    }
    var approve = button('finance.approve', { id: 'approve', class: 'primary' }, function () {
      ask(host, {
        prompt: prompt, labelKey: 'finance.note', confirmKey: 'finance.approveYes', confirmID: 'approve-confirm',
        confirm: function (note) {
          return LF.api('POST', '/v1/payroll/' + encodeURIComponent(month) + '/approve', { note: note }).then(function () {
            LF.toast(t('finance.approved', { month: monthName(month) }), 'ok');
            reload();
          });
        }
      });
    });
    return h('div', { class: 'approve-box' }, h('p', {}, t('finance.awaiting')), approve, host);
  }

  function summaryView(sum) {
    var countries = Object.keys(sum.countries || {}).sort();
    var rows = countries.map(function (c) {
      var ct = sum.countries[c] || {};
      return h('tr', { 'data-country': c },
        h('th', { scope: 'row' }, c),
        h('td', {}, number(ct.people || 0)),
        h('td', {}, amounts(ct.paid)),
        h('td', {}, amounts(ct.top_ups)));
    });
    var topUps = (sum.top_ups || []).map(function (u) {
      return h('tr', {}, h('th', { scope: 'row' }, u.person), h('td', {}, u.country), h('td', {}, LF.money(u.amount, u.currency)));
    });
    var adjustments = Object.keys(sum.adjustments || {}).sort().map(function (kind) {
      return h('tr', {}, h('th', { scope: 'row' }, word('adjustment', kind)), h('td', {}, amounts(sum.adjustments[kind])));
    });
    var refused = sum.refused;
    return h('div', { class: 'summary' },
      h('h2', {}, t('finance.summary')),
      facts({}, [
        ['finance.people', number(sum.people || 0)],
        ['finance.entries', number(sum.entries || 0)],
        ['finance.earned', amounts(sum.totals)],
        ['finance.toPay', amounts(sum.pay_totals)],
        ['finance.rejected', amounts(sum.rejected)]]),
      scroller(h('table', { id: 'country-summary' },
        h('caption', {}, t('finance.byCountry')),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('finance.country')),
          h('th', { scope: 'col' }, t('finance.people')),
          h('th', { scope: 'col' }, t('finance.paid')),
          h('th', { scope: 'col' }, t('finance.topUps')))),
        h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: '4' }, t('finance.nobody')))))),
      topUps.length ? scroller(h('table', { id: 'top-ups' },
        h('caption', {}, t('finance.topUpsTitle')),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('finance.person')),
          h('th', { scope: 'col' }, t('finance.country')),
          h('th', { scope: 'col' }, t('finance.topUp')))),
        h('tbody', {}, topUps))) : null,
      adjustments.length ? scroller(h('table', { id: 'adjustments' },
        h('caption', {}, t('finance.adjustments')), h('tbody', {}, adjustments))) : null,
      refused && refused.entries ? h('div', { class: 'refused', role: 'note' },
        h('h3', {}, t('finance.refused', { count: refused.entries })),
        h('p', {}, amounts(refused.amounts)),
        h('ul', {}, (refused.examples || []).map(function (e) { return h('li', {}, h('code', {}, e)); }))) : null);
  }

  // holdsView lists held payouts with their release buttons and, before approval, a form to hold
  // one person's payout.
  function holdsView(month, p, sum, awaiting, reload) {
    var base = '/v1/payroll/' + encodeURIComponent(month) + '/holds';
    var held = heldPeople(p);
    var list = held.length ? h('ul', { class: 'holds' }, held.map(function (x) {
      var problem = h('div', { class: 'problem' });
      var release = button('finance.release', { class: 'release', 'data-person': x.person }, function () {
        release.disabled = true;
        LF.api('POST', base + '/' + encodeURIComponent(x.person) + '/release', {}).then(function () {
          LF.toast(t('finance.released', { person: x.person }), 'ok');
          reload();
        }, function (err) {
          release.disabled = false;
          fill(problem, errorBox(err));
        });
      });
      return h('li', { class: 'hold', 'data-person': x.person },
        h('strong', {}, x.person), x.reason ? ' — ' + x.reason : '',
        x.by ? h('span', { class: 'meta' }, ' ', t('finance.heldBy', { person: x.by, date: x.at ? LF.date(x.at) : '—' })) : null,
        ' ', release, problem);
    })) : h('p', { id: 'no-holds' }, t('finance.noHolds'));
    return h('div', { class: 'holds-box' },
      h('h2', {}, t('finance.holds')),
      list,
      awaiting ? holdForm(base, sum, reload) : null);
  }

  function holdForm(base, sum, reload) {
    var person = input('person');
    person.required = true;
    var workers = (sum && sum.workers) || [];
    var options = null;
    if (workers.length) {
      options = h('datalist', { id: uid('workers') }, workers.map(function (w) { return h('option', { value: w }); }));
      person.setAttribute('list', options.id);
    }
    var reason = textarea('reason', true);
    var problem = h('div', { class: 'problem' });
    var submit = button('finance.hold', { type: 'submit', class: 'hold' });
    var form = h('form', { id: 'hold', class: 'stack', novalidate: true },
      h('h3', {}, t('finance.holdTitle')),
      field('finance.person', person, 'finance.personHint'), options,
      field('field.reason', reason),
      problem, submit);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var who = person.value.trim();
      var why = reason.value.trim();
      if (!who || !why) {
        fill(problem, h('p', { class: 'error', role: 'alert' }, t(!who ? 'error.personNeeded' : 'error.reasonNeeded')));
        return;
      }
      submit.disabled = true;
      LF.api('POST', base, { person: who, reason: why }).then(function () {
        LF.toast(t('finance.heldOne', { person: who }), 'ok');
        reload();
      }, function (err) {
        submit.disabled = false;
        fill(problem, errorBox(err));
      });
    });
    return form;
  }

  // ---- finance: rejections ---------------------------------------------------------------

  function loadRejections(view, box) {
    return load(view, box, '/v1/rejections', function (data) {
      return rejectionList(data.rejections || [], function () { loadRejections(view, box); });
    });
  }

  function rejectionList(list, reload) {
    if (!list.length) {
      return h('p', { id: 'no-rejections' }, t('reject.none'));
    }
    var shown = list.slice().sort(function (a, b) { return String(b.at).localeCompare(String(a.at)); }).slice(0, SHOWN_ROWS);
    var more = list.length > shown.length ? h('p', { class: 'hint' }, t('rowsCut', { shown: shown.length, total: list.length })) : null;
    return [more, cards('rejections', shown.map(function (r) {
      var host = h('div', { class: 'ask-host' });
      var reverse = r.reversed ? null : button('reject.reverse', { class: 'reverse' }, function () {
        ask(host, {
          labelKey: 'reject.note', confirmKey: 'reject.reverseYes',
          prompt: t('reject.reverseConfirm', { person: r.person, project: r.project }),
          confirm: function (note) {
            return LF.api('POST', '/v1/rejections/' + encodeURIComponent(r.id) + '/reverse', { note: note }).then(function () {
              LF.toast(t('reject.reversed'), 'ok');
              reload();
            });
          }
        });
      });
      return h('li', { class: 'rejection card', 'data-rejection': r.id, 'data-reversed': r.reversed ? 'true' : 'false' },
        h('h3', {}, t('reject.line', { person: r.person, project: r.project })),
        h('p', {}, r.chunks && r.chunks.length ? t('reject.chunks', { chunks: r.chunks.join(', ') }) : t('reject.allChunks')),
        h('p', {}, t('reject.reasonIs', { reason: r.reason })),
        h('p', { class: 'meta' }, t('reject.by', { person: r.by, date: r.at ? LF.date(r.at) : '—' })),
        r.reversed ? h('p', { class: 'badge' }, t('reject.reversedBy', { person: r.reversed.by, date: LF.date(r.reversed.at) })) : null,
        reverse, host);
    }))];
  }

  function rejectForm(reload) {
    var project = input('project');
    var person = input('person');
    var chunks = input('chunks');
    chunks.setAttribute('inputmode', 'numeric');
    var reason = textarea('reason', true);
    var problem = h('div', { class: 'problem' });
    var submit = button('reject.submit', { type: 'submit', class: 'danger' });
    var form = h('form', { id: 'reject', class: 'stack', novalidate: true },
      field('reject.project', project),
      field('reject.person', person),
      field('reject.chunksLabel', chunks, 'reject.chunksHint'),
      field('reject.reason', reason, 'reject.reasonHint'),
      problem, submit);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var body = { project: project.value.trim(), person: person.value.trim(), reason: reason.value.trim() };
      var parsed = chunkList(chunks.value);
      var missing = !body.project ? 'error.projectNeeded' : !body.person ? 'error.personNeeded' : !body.reason ? 'error.reasonNeeded' : parsed === null ? 'error.badChunks' : '';
      if (missing) {
        fill(problem, h('p', { class: 'error', role: 'alert' }, t(missing)));
        return;
      }
      if (parsed.length) {
        body.chunks = parsed;
      }
      submit.disabled = true;
      LF.api('POST', '/v1/rejections', body).then(function () {
        submit.disabled = false;
        fill(problem);
        form.reset();
        LF.toast(t('reject.done', { person: body.person }), 'ok');
        reload();
      }, function (err) {
        submit.disabled = false;
        fill(problem, errorBox(err));
      });
    });
    return form;
  }

  // chunkList reads "0, 3 5" as chunk numbers; null when it holds anything else.
  function chunkList(text) {
    var parts = text.split(/[\s,;]+/).filter(Boolean);
    if (!parts.every(function (p) { return /^\d{1,6}$/.test(p); })) {
      return null;
    }
    return parts.map(Number);
  }

  // ---- ops: projects ---------------------------------------------------------------------

  function projectsScreen(root) {
    var list = h('div', { class: 'ops-list', 'aria-live': 'polite' }, loading());
    var view = h('section', { class: 'staff ops' },
      h('h1', {}, t('ops.title')),
      h('p', { class: 'hint' }, t('ops.refreshing')),
      list);
    root.append(view);
    function refresh() {
      return load(view, list, '/v1/ops/projects', function (data) { return projectCards(data.projects || []); });
    }
    refresh();
    return every(view, refresh);
  }

  function projectCards(projects) {
    if (!projects.length) {
      return h('p', { id: 'ops-empty', class: 'notice' }, t('ops.none'));
    }
    return cards('', projects.map(function (p) {
      return h('li', { class: 'ops-project card', 'data-project': p.id, 'data-paused': paused(p) ? 'true' : 'false' },
        h('h2', {}, link('#/ops/' + p.id, p.id)),
        projectHeadline(p),
        progressBars(progressOf(p)),
        projectFigures(p),
        problems(p.problems));
    }));
  }

  // progressOf reads the counts from either the list's flat fields or a full project status.
  function progressOf(p) {
    var done = p.done || {};
    function pick() {
      for (var i = 0; i < arguments.length; i++) {
        if (typeof arguments[i] === 'number') {
          return arguments[i];
        }
      }
      return 0;
    }
    return {
      items: pick(p.items),
      chunks: pick(p.chunks),
      started: pick(p.chunks_started),
      annotated: pick(p.annotated, p.annotated_items),
      arbitrated: pick(p.arbitrated, p.arbitrated_items),
      delivered: pick(p.delivered, done.Delivered, done.delivered)
    };
  }

  function paused(p) {
    return !!p.paused;
  }

  function projectHeadline(p) {
    return h('p', { class: 'headline' },
      p.client ? h('span', { class: 'client' }, t('ops.client', { client: p.client })) : null, ' ',
      h('span', { class: 'badge stage-' + (p.stage || '') }, word('projectStage', p.stage || 'unknown')), ' ',
      p.status ? h('span', { class: 'badge' }, workflowStatus(p.status)) : null, ' ',
      paused(p) ? h('span', { class: 'badge paused' }, t('ops.paused')) : null,
      p.cancelled ? h('span', { class: 'badge cancelled' }, t('ops.cancelled')) : null);
  }

  // progressBars shows the project's advance as labelled progress elements.
  function progressBars(g) {
    var bars = [
      ['chunked', g.started, g.chunks],
      ['annotated', g.annotated, g.items],
      ['arbitrated', g.arbitrated, g.items],
      ['delivered', g.delivered, g.items]
    ];
    return h('div', { class: 'progress-lines' }, bars.map(function (b) {
      var bar = h('progress', { id: uid('progress'), class: 'progress-' + b[0], 'data-kind': b[0] });
      bar.max = Math.max(b[2], 1);
      bar.value = Math.min(b[1], bar.max);
      bar.style.width = '100%';
      return h('div', { class: 'progress-line' },
        h('label', { for: bar.id }, t('ops.progress.' + b[0], { done: number(b[1]), total: number(b[2]) })),
        bar);
    }));
  }

  function projectFigures(p) {
    return h('p', { class: 'figures' },
      t('ops.rejects', { count: number(p.rejects || 0) }), ' · ',
      // Agreement means nothing before any item has its annotations.
      t('ops.agreement', { value: typeof p.agreement === 'number' && progressOf(p).annotated > 0 ? percent(p.agreement) : '—' }));
  }

  function problems(list) {
    if (!list || !list.length) {
      return null;
    }
    return h('div', { class: 'problems', role: 'note' },
      h('h3', {}, t('ops.problems', { count: list.length })),
      h('ul', {}, list.map(function (x) { return h('li', {}, h('code', {}, String(x))); })));
  }

  // ---- ops: one project ------------------------------------------------------------------

  function projectScreen(root, id) {
    var statusBox = h('div', { class: 'project-status', 'aria-live': 'polite' }, loading());
    var actionsBox = h('div', { class: 'project-actions' });
    var host = h('div', { class: 'ask-host' });
    var qualityBox = h('div', { class: 'quality' });
    var view = h('section', { class: 'staff ops-detail ops-project', 'data-project': id },
      h('p', {}, link('#/ops', t('ops.back'))),
      h('h1', {}, t('ops.projectTitle', { project: id })),
      statusBox, actionsBox, host,
      h('h2', {}, t('ops.quality')), qualityBox);
    root.append(view);
    var shownState = '';
    function refresh() {
      return LF.api('GET', '/v1/ops/projects/' + encodeURIComponent(id)).then(function (data) {
        if (!view.isConnected) {
          return;
        }
        var p = data.project || {};
        view.setAttribute('data-paused', paused(p) ? 'true' : 'false');
        var raw = statusBox.querySelector('details.raw-status');
        var rawOpen = !!(raw && raw.open);
        fill(statusBox, projectHeadline(p), pauseNote(p), progressBars(progressOf(p)), projectFigures(p), problems(p.problems),
          h('details', { class: 'raw-status' }, h('summary', {}, t('ops.details')), report(p)));
        statusBox.querySelector('details.raw-status').open = rawOpen;
        // The buttons are rebuilt only when the state they depend on changes, so a refresh never
        // takes away a form being filled.
        var state = (paused(p) ? 'paused' : 'running') + '/' + (p.stage || '') + '/' + (p.cancelled ? 'c' : '');
        if (state !== shownState) {
          shownState = state;
          fill(actionsBox, projectActions(id, p, host, refresh));
        }
        fill(qualityBox, data.quality ? report(data.quality) : h('p', { id: 'no-quality', class: 'notice' }, t('ops.noQuality')));
      }, function (err) {
        if (view.isConnected) {
          fill(statusBox, errorBox(err));
        }
      });
    }
    refresh();
    return every(view, refresh);
  }

  function pauseNote(p) {
    if (!p.paused || typeof p.paused !== 'object') {
      return null;
    }
    return h('p', { class: 'notice', id: 'paused-note' },
      t('ops.pausedBy', { person: p.paused.by || '—', reason: p.paused.reason || '—', date: p.paused.at ? LF.date(p.paused.at) : '—' }));
  }

  // projectActions offers pause or resume, and cancel, each asking for a reason first.
  function projectActions(id, p, host, refresh) {
    var base = '/v1/projects/' + encodeURIComponent(id);
    var over = p.stage === 'completed' || p.stage === 'delivering' || !!p.cancelled;
    function act(kind, danger, required) {
      return button('ops.' + kind, { id: kind, class: danger ? 'danger' : 'primary' }, function () {
        ask(host, {
          prompt: t('ops.' + kind + 'Confirm', { project: id }), confirmKey: 'ops.' + kind + 'Yes', confirmID: kind + '-confirm',
          required: required, danger: danger, hintKey: 'ops.reasonHint',
          confirm: function (reason) {
            return LF.api('POST', base + '/' + kind, { reason: reason }).then(function () {
              LF.toast(t('ops.' + kind + 'Done', { project: id }), 'ok');
              fill(host);
              return refresh();
            });
          }
        });
      });
    }
    if (over) {
      return h('p', { class: 'hint' }, t('ops.noActions'));
    }
    return h('div', { class: 'actions' },
      paused(p) ? act('resume', false, false) : act('pause', false, true),
      act('cancel', true, true));
  }

  // ---- ops: roster -----------------------------------------------------------------------

  function rosterScreen(root) {
    var tokenBox = h('div', { class: 'token-host', 'aria-live': 'polite' });
    var filter = input('filter', 'search');
    filter.id = 'roster-filter';
    var list = h('div', { class: 'roster-list' }, loading());
    var view = h('section', { class: 'staff roster' },
      h('h1', {}, t('roster.title')),
      tokenBox,
      field('roster.filter', filter),
      list);
    root.append(view);
    var people = [];
    function show() {
      fill(list, personCards(people, filter.value, tokenBox, reload));
    }
    function reload() {
      return LF.api('GET', '/v1/roster').then(function (data) {
        people = data.people || [];
        if (view.isConnected) {
          show();
        }
      }, function (err) {
        if (view.isConnected) {
          fill(list, errorBox(err));
        }
      });
    }
    filter.addEventListener('input', show);
    reload();
  }

  function personCards(people, query, tokenBox, reload) {
    var q = query.trim().toLowerCase();
    var found = people.filter(function (p) {
      return !q || [p.id, p.name, p.country, p.role].join(' ').toLowerCase().indexOf(q) >= 0;
    });
    if (!found.length) {
      return h('p', { id: 'roster-empty', class: 'notice' }, t(people.length ? 'roster.noMatch' : 'roster.none'));
    }
    var shown = found.slice(0, SHOWN_ROWS);
    return [
      h('p', { class: 'hint' }, t('roster.count', { shown: shown.length, total: found.length })),
      cards('people', shown.map(function (p) { return personCard(p, tokenBox, reload); }))
    ];
  }

  function personCard(p, tokenBox, reload) {
    var host = h('div', { class: 'ask-host' });
    var deactivate = p.active ? button('roster.deactivate', { class: 'deactivate danger', 'data-person': p.id }, function () {
      ask(host, {
        prompt: t('roster.deactivateConfirm', { name: p.name || p.id }), confirmKey: 'roster.deactivateYes',
        confirmID: 'deactivate-confirm', required: true, danger: true, hintKey: 'roster.reasonHint',
        confirm: function (reason) {
          return LF.api('POST', '/v1/roster/' + encodeURIComponent(p.id) + '/deactivate', { reason: reason }).then(function () {
            LF.toast(t('roster.deactivated', { name: p.name || p.id }), 'ok');
            reload();
          });
        }
      });
    }) : null;
    function issueToken() {
      return LF.api('POST', '/v1/roster/' + encodeURIComponent(p.id) + '/token', {}).then(function (data) {
        fill(tokenBox, newToken(p, data.token, tokenBox));
        tokenBox.scrollIntoView({ block: 'start' });
        document.getElementById('copy-token').focus();
        reload();
      });
    }
    // A new token ends the one the person has: replacing it asks first, issuing a first does not.
    var issue = button(p.has_token ? 'roster.rotate' : 'roster.issue', { class: 'issue-token', 'data-person': p.id }, function () {
      if (p.has_token) {
        ask(host, {
          prompt: t('roster.rotateConfirm', { name: p.name || p.id }), confirmKey: 'roster.rotateYes',
          confirmID: 'rotate-confirm', noReason: true, confirm: issueToken
        });
        return;
      }
      issue.disabled = true;
      issueToken().catch(function (err) {
        issue.disabled = false;
        fill(host, errorBox(err));
      });
    });
    return h('li', { class: 'person card', 'data-person': p.id, 'data-active': p.active ? 'true' : 'false' },
      h('h2', {}, p.name || p.id),
      h('p', { class: 'meta' }, p.id, ' · ', word('role', p.role), ' · ', p.country || '—',
        p.languages && p.languages.length ? ' · ' + p.languages.join(', ') : ''),
      h('p', {},
        h('span', { class: 'badge ' + (p.active ? 'active' : 'inactive') }, t(p.active ? 'roster.active' : 'roster.inactive')), ' ',
        h('span', { class: 'badge' }, t(p.has_token ? 'roster.hasToken' : 'roster.noToken'))),
      h('div', { class: 'actions' }, issue, deactivate),
      host);
  }

  // newToken shows a token once, with a copy button: the server keeps only its hash.
  function newToken(p, token, tokenBox) {
    var code = h('code', { class: 'token', id: 'new-token-value' }, token);
    var copy = button('roster.copy', { id: 'copy-token' }, function () {
      copyText(code, token).then(function () {
        LF.toast(t('roster.copied'), 'ok');
      }, function () {
        LF.toast(t('roster.copyFailed'), 'error');
      });
    });
    var done = button('roster.tokenDone', { class: 'secondary' }, function () { fill(tokenBox); });
    return h('div', { id: 'new-token', class: 'notice', role: 'alert', 'data-person': p.id },
      h('h2', {}, t('roster.tokenFor', { name: p.name || p.id })),
      h('p', {}, code),
      h('p', { class: 'warning' }, t('roster.tokenOnce')),
      h('div', { class: 'actions' }, copy, done));
  }

  // copyText copies through the clipboard API, or by selecting the text where it is refused.
  function copyText(node, text) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text).catch(function () { return selectAndCopy(node); });
    }
    return selectAndCopy(node);
  }

  function selectAndCopy(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    return document.execCommand('copy') ? Promise.resolve() : Promise.reject(new Error('copy'));
  }
})();
