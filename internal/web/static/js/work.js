/* LabelFlow workbench for annotators and reviewers: the task feed, one editor per annotation
   type, arbitration, leases, the queue that keeps answers until the server has them, and
   earnings. Everything a person gives is in localStorage before it is on the network. */
(function () {
  'use strict';

  var LF = window.LF;
  var el = LF.el;
  var t = LF.t;
  var enc = encodeURIComponent;
  var WORKERS = ['annotator', 'reviewer'];

  LF.nav('nav-feed', 'nav.feed', '#/', WORKERS);
  LF.nav('nav-earnings', 'nav.earnings', '#/earnings', WORKERS);
  LF.route('feed', feed);
  LF.route('work', work);
  LF.route('earnings', earnings);

  function $(id) { return document.getElementById(id); }
  function pkey(rest) { return 'lf.' + LF.session.person.id + '.' + rest; }
  function savedKey(project, suite) { return pkey('answers.' + project + '/' + suite); }
  function isType(type, name) { return type === name || (name === 'named-entities' && type === 'named-entity'); }
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }
  function modified(e) { return e.ctrlKey || e.altKey || e.metaKey; }
  function digit(e) { return /^[1-9]$/.test(e.key) ? +e.key - 1 : -1; }

  /* ---------- Submissions: a queue in localStorage, sent in order, retried until decided ---------- */

  var queue = {
    list: function () { return (LF.session && LF.store.get(pkey('queue'))) || []; },
    save: function (l) { LF.store.set(pkey('queue'), l); showPending(); },
    add: function (e) { this.save(this.list().filter(function (x) { return !same(x, e); }).concat([e])); },
    drop: function (e) { this.save(this.list().filter(function (x) { return !same(x, e); })); },
    has: function (project, suite) { return this.list().some(function (x) { return x.project === project && x.suite === suite; }); }
  };
  function same(a, b) { return a.project === b.project && a.suite === b.suite; }

  var sending = null;
  var retryTimer = null;
  var backoff = 2000;
  var watchers = []; // called with (entry, 'sent'|'expired'|'failed', detail)
  // awaited is the submission the work screen waits on: its answer may bring the person's next
  // suite (one message to the server instead of two). Other submissions, sent later from the
  // queue when nobody waits on them, ask for nothing more.
  var awaited = null;

  function flush() {
    if (sending) return sending;
    clearTimeout(retryTimer);
    retryTimer = null;
    var q = queue.list();
    if (!q.length || !LF.session) { showPending(); return Promise.resolve(); }
    var e = q[0];
    var path = '/v1/projects/' + enc(e.project) + '/suites/' + enc(e.suite) + '/submit';
    var body = { answers: e.answers };
    if (awaited && same(awaited, e)) body.next = true;
    sending = LF.api('POST', path, body).then(function (res) {
      backoff = 2000;
      settle(e, 'sent', res);
      return true;
    }, function (err) {
      if (retryable(err)) { later(err.retryAfter); return false; }
      settle(e, err.status === 410 ? 'expired' : 'failed', err);
      return true;
    }).then(function (more) {
      sending = null;
      showPending();
      if (more) return flush();
    });
    return sending;
  }

  // Answers are never dropped for a reason that may pass: no network, a busy server, a session
  // to renew.
  function retryable(err) {
    return !err.status || err.status === 401 || err.status === 429 || err.status >= 500 || err.code === 'csrf';
  }

  function later(seconds) {
    var wait = seconds > 0 ? seconds * 1000 : backoff;
    backoff = Math.min(backoff * 2, 60000);
    retryTimer = setTimeout(flush, wait + Math.random() * 300);
  }

  function settle(e, state, detail) {
    queue.drop(e);
    LF.store.del(savedKey(e.project, e.suite));
    watchers.slice().forEach(function (w) { w(e, state, detail); });
  }

  function showPending() {
    var box = $('pending');
    if (!box) return;
    var n = LF.session ? queue.list().length : 0;
    box.hidden = n === 0;
    box.textContent = n ? t(navigator.onLine === false ? 'pending.offline' : 'pending.count', { n: n }) : '';
  }

  // Saved answers of suites whose lease has passed can never be sent: forget them.
  function forgetStale() {
    LF.store.keys(pkey('answers.')).forEach(function (k) {
      var v = LF.store.get(k);
      if (!v || Date.parse(v.expires_at) < LF.now()) LF.store.del(k);
    });
  }

  window.addEventListener('online', function () { showPending(); flush(); });
  window.addEventListener('offline', showPending);
  document.addEventListener('lf:chrome', showPending);
  document.addEventListener('lf:signedin', function () { forgetStale(); showPending(); flush(); });

  // savedSuite is a suite of the project held on this device, its lease still running.
  function savedSuite(project) {
    var found = null;
    LF.store.keys(pkey('answers.' + project + '/')).forEach(function (k) {
      var v = LF.store.get(k);
      if (v && v.suite && Date.parse(v.expires_at) > LF.now()) found = v.suite;
    });
    return found;
  }

  /* ---------- Shared pieces ---------- */

  function noWork(id, seconds, why, again, back) {
    var left = Math.max(1, seconds);
    var when = el('p', { id: 'no-work', class: 'when' });
    var box = el('section', { id: id || null, class: 'card notice' },
      el('h2', null, why), when, back ? el('p', null, el('a', { href: '#/' }, t('work.back'))) : null);
    function tick() {
      var at = new Date(Date.now() + left * 1000);
      when.textContent = t('nowork.when', {
        time: new Intl.DateTimeFormat(LF.lang, { timeStyle: 'short' }).format(at), seconds: Math.max(0, left)
      });
      if (left-- <= 0) { clearInterval(timer); again(); }
    }
    var timer = setInterval(tick, 1000);
    tick();
    box.stop = function () { clearInterval(timer); };
    return box;
  }

  function typeName(type) { return t('type.' + (type === 'named-entity' ? 'named-entities' : type)); }

  function percent(x) { return LF.number(x, { style: 'percent', maximumFractionDigits: 0 }); }

  /* ---------- Feed ---------- */

  function feed(root) {
    var alive = true;
    var waiting = null;
    var list = el('div', { class: 'feed', 'aria-busy': 'true' }, el('p', { class: 'muted' }, t('feed.loading')));
    root.appendChild(el('h1', null, t('feed.title')));
    root.appendChild(list);

    function load() {
      LF.api('GET', '/v1/projects').then(function (r) {
        if (!alive) return;
        list.textContent = '';
        list.removeAttribute('aria-busy');
        var projects = (r && r.projects) || [];
        var retry = (r && r.retry_after_seconds) || 30;
        if (!projects.length) {
          waiting = noWork('feed-empty', retry, t('feed.empty'), load);
          list.appendChild(waiting);
          return;
        }
        projects.forEach(function (p) { list.appendChild(card(p)); });
        var first = list.querySelector('button.start:not([disabled])');
        if (first) first.focus();
      }, function (err) {
        if (!alive || err.status === 401) return;
        list.textContent = '';
        list.removeAttribute('aria-busy');
        waiting = noWork('feed-empty', err.retryAfter || 10, LF.problem(err), load);
        list.appendChild(waiting);
      });
    }

    function card(p) {
      var facts = [
        [t('feed.pay'), p.pay ? LF.money(p.pay.minor, p.pay.currency) : t('feed.pay_unknown')],
        [t('feed.items_left'), LF.number(p.items_left || 0)],
        [t('feed.accuracy'), p.my_accuracy == null ? t('feed.accuracy_none') : percent(p.my_accuracy)]
      ];
      var kind = p.kind === 'arbitrate' ? t('feed.kind_arbitrate') : t('feed.kind_annotate');
      return el('article', { class: 'project card', 'data-project': p.id },
        el('h2', null, p.id),
        el('p', { class: 'meta' }, typeName(p.annotation_type) + ' · ' + kind),
        el('dl', { class: 'facts' }, facts.map(function (f) { return el('div', null, el('dt', null, f[0]), el('dd', null, f[1])); })),
        p.instructions ? el('details', null, el('summary', null, t('feed.instructions')),
          el('p', { class: 'instructions-text' }, p.instructions)) : null,
        p.paused ? el('p', { class: 'paused' }, t('feed.paused')) : null,
        el('button', {
          type: 'button', class: 'start primary', 'data-project': p.id, disabled: !!p.paused,
          onclick: function () { LF.go('#/work/' + enc(p.id)); }
        }, p.kind === 'arbitrate' ? t('feed.start_review') : t('feed.start')));
    }

    function onKey(e) {
      if (e.key !== 'Enter' || modified(e)) return;
      var a = document.activeElement;
      if (a && a !== document.body && a !== root) return;
      var first = list.querySelector('button.start:not([disabled])');
      if (first) { e.preventDefault(); first.click(); }
    }

    document.addEventListener('keydown', onKey);
    load();
    return function () {
      alive = false;
      if (waiting) waiting.stop();
      document.removeEventListener('keydown', onKey);
    };
  }

  /* ---------- Work: claim, label, submit, claim again ---------- */

  var held = {}; // project → the suite on screen, kept when the screen is drawn again

  function work(root, args) {
    var project = args[0];
    if (!project) { LF.go('#/'); return null; }
    var S = { suite: null, idx: 0, answers: {}, editor: null, waiting: null, images: [], alive: true };
    var leaseTimer = null;
    var stageCleanup = null;
    var presence = { active: 0, beat: 0, leaseMs: 0, sending: false };

    var lease = el('span', { id: 'lease', class: 'lease', hidden: true });
    var progress = el('progress', { id: 'progress', max: 1, value: 0, hidden: true, 'aria-label': t('work.progress_label') });
    var count = el('span', { class: 'count', 'aria-live': 'polite' });
    var instructions = el('section', { id: 'instructions', class: 'card instructions', hidden: true, tabindex: '-1' });
    var showInstructions = el('button', {
      type: 'button', id: 'show-instructions', class: 'quiet', 'aria-expanded': 'false',
      'aria-controls': 'instructions', 'aria-keyshortcuts': '?', hidden: true, onclick: toggleInstructions
    }, t('work.instructions'));
    var release = el('button', { type: 'button', id: 'release', class: 'quiet', hidden: true, onclick: giveBack }, t('work.release'));
    var stage = el('div', { id: 'stage', class: 'stage' });
    root.appendChild(el('div', { class: 'work-head' },
      el('a', { href: '#/', class: 'back' }, t('work.back')), count, progress, lease, showInstructions, release));
    root.appendChild(instructions);
    root.appendChild(stage);

    function setStage(node, cleanup) {
      if (stageCleanup) stageCleanup();
      stageCleanup = cleanup || null;
      if (S.editor && S.editor.destroy) S.editor.destroy();
      S.editor = null;
      stage.textContent = '';
      stage.appendChild(node);
    }

    function toggleInstructions() {
      if (!S.suite) return;
      instructions.hidden = !instructions.hidden;
      showInstructions.setAttribute('aria-expanded', String(!instructions.hidden));
      if (!instructions.hidden) instructions.focus();
    }

    function headFor(suite) {
      var on = !!suite;
      lease.hidden = progress.hidden = showInstructions.hidden = release.hidden = !on;
      count.textContent = '';
      if (!on) { instructions.hidden = true; return; }
      instructions.textContent = '';
      instructions.appendChild(el('h2', null, t('work.instructions')));
      // The keys are told once, under the task, where they are used.
      instructions.appendChild(el('p', { class: 'instructions-text' }, suite.instructions || t('work.no_instructions')));
    }

    function claim() {
      stopLease();
      S.suite = null;
      headFor(null);
      setStage(el('p', { class: 'muted loading', role: 'status' }, t('work.finding')));
      LF.api('POST', '/v1/projects/' + enc(project) + '/claim').then(onClaim, function (err) {
        if (!S.alive || err.status === 401) return;
        if (err.status === 403 || err.status === 404 || err.status === 400) {
          setStage(el('section', { id: 'work-error', class: 'card notice', role: 'alert' },
            el('h2', null, t('work.cannot')), el('p', null, LF.problem(err)),
            el('p', null, el('a', { href: '#/' }, t('work.back')))));
          return;
        }
        waitThenClaim(err.retryAfter || 5, LF.problem(err));
      });
    }

    function waitThenClaim(seconds, why) {
      var box = noWork(null, seconds, why, claim, true);
      setStage(box, box.stop);
    }

    function onClaim(r) {
      if (!S.alive) return;
      if (!r.suite) {
        if (!r.project_open) {
          setStage(el('section', { id: 'project-done', class: 'card notice' },
            el('h2', null, t('work.project_closed')), el('p', null, el('a', { href: '#/' }, t('work.back')))));
          return;
        }
        waitThenClaim(r.retry_after_seconds || 5, r.reason === 'paused' ? t('nowork.paused') : t('nowork.none'));
        return;
      }
      if (queue.has(project, r.suite.id)) { // answered already, still on its way
        sendingView(r.suite.id);
        return;
      }
      begin(r.suite);
    }

    // begin shows a suite: just claimed, or resumed (a reload, a return to the screen), when the
    // first sign of activity sends a heartbeat at once: the chunk may not have heard from this
    // person for a while.
    function begin(suite, resumed) {
      S.suite = suite;
      held[project] = suite;
      S.images = [];
      var saved = LF.store.get(savedKey(project, suite.id));
      S.answers = (saved && saved.answers) || {};
      save();
      headFor(suite);
      presence.active = Date.now();
      presence.beat = resumed ? 0 : presence.active;
      presence.leaseMs = Date.parse(suite.expires_at) - LF.now();
      startLease();
      for (var i = 0; i < 3; i++) preload(i);
      S.idx = nextOpen(-1);
      if (S.idx < 0) finish();
      else showTask();
    }

    function nextOpen(from) {
      var n = S.suite.tasks.length;
      for (var k = 1; k <= n; k++) {
        var i = (from + k) % n;
        if (!Object.prototype.hasOwnProperty.call(S.answers, S.suite.tasks[i].item)) return i;
      }
      return -1;
    }

    function preload(i) {
      var task = S.suite && S.suite.tasks[i];
      if (!task || !task.media_url || S.images[i]) return;
      var img = new Image();
      img.decoding = 'async';
      img.src = task.media_url;
      S.images[i] = img;
    }

    function showTask() {
      var suite = S.suite;
      var task = suite.tasks[S.idx];
      var arbitrate = suite.kind === 'arbitrate' && task.answers && task.answers.length > 0;
      var ed = arbitrate ? arbitration(task, suite, give) : editor(suite.annotation_type, task, suite, S.answers[task.item], give);
      var node = el('section', {
        id: 'task', class: 'task type-' + suite.annotation_type, 'data-item': task.item, 'data-suite': suite.id,
        'data-kind': arbitrate ? 'arbitrate' : 'annotate', tabindex: '-1',
        'aria-label': t('work.item_of', { n: S.idx + 1, total: suite.tasks.length })
      }, ed.node, S.idx > 0 ? el('p', { class: 'prev' }, el('button', {
        type: 'button', id: 'prev-item', class: 'quiet', onclick: function () { S.idx--; showTask(); }
      }, t('work.prev'))) : null);
      setStage(node);
      S.editor = ed;
      var done = Object.keys(S.answers).length;
      progress.max = suite.tasks.length;
      progress.value = done;
      count.textContent = t('work.item_of', { n: S.idx + 1, total: suite.tasks.length });
      if (ed.focus) ed.focus(); else node.focus({ preventScroll: true });
      preload(S.idx + 1);
      preload(S.idx + 2);
    }

    function give(answer) {
      if (!S.suite) return;
      var task = S.suite.tasks[S.idx];
      S.answers[task.item] = answer;
      save();
      var next = nextOpen(S.idx);
      if (next < 0) finish();
      else { S.idx = next; showTask(); }
    }

    // save keeps the suite with its answers on the device: a reload, or a connection gone,
    // resumes it without asking the server.
    function save() {
      LF.store.set(savedKey(project, S.suite.id), { expires_at: S.suite.expires_at, suite: S.suite, answers: S.answers });
    }

    function finish() {
      var suite = S.suite;
      queue.add({
        project: project, suite: suite.id, expires_at: suite.expires_at,
        answers: suite.tasks.map(function (tk) { return { item: tk.item, answer: S.answers[tk.item] }; })
      });
      delete held[project];
      sendingView(suite.id);
    }

    function sendingView(suiteID) {
      stopLease();
      S.suite = null;
      S.waiting = suiteID;
      awaited = { project: project, suite: suiteID };
      headFor(null);
      var text = el('p', null, t('work.sending'));
      setStage(el('section', { id: 'sending', class: 'card notice', role: 'status' }, text));
      flush().then(function () {
        if (S.alive && S.waiting === suiteID) text.textContent = t('work.saved_waiting');
      });
    }

    function outcome(e, state, detail) {
      if (!S.alive || e.project !== project || e.suite !== S.waiting) return;
      S.waiting = null;
      awaited = null;
      if (state === 'expired') { expired(); return; }
      if (state === 'sent') LF.toast(t('work.sent', { n: detail && detail.accepted != null ? detail.accepted : e.answers.length }), 'ok');
      else LF.toast(LF.problem(detail), 'error');
      if (state === 'sent' && detail && detail.next) begin(detail.next);
      else claim();
    }

    function expired() {
      stopLease();
      if (S.suite) LF.store.del(savedKey(project, S.suite.id));
      delete held[project];
      S.suite = null;
      headFor(null);
      var again = el('button', { type: 'button', id: 'new-work', class: 'primary', onclick: claim }, t('lease.new_work'));
      setStage(el('section', { id: 'lease-expired', class: 'card notice', role: 'alert' },
        el('h2', null, t('lease.expired_title')), el('p', null, t('lease.expired_text')),
        el('p', { class: 'actions' }, again, el('a', { href: '#/' }, t('work.back')))));
      again.focus();
    }

    function startLease() {
      stopLease();
      tick();
      leaseTimer = setInterval(tick, 1000);
    }

    function stopLease() {
      clearInterval(leaseTimer);
      leaseTimer = null;
    }

    function tick() {
      if (!S.suite) return;
      var ms = Date.parse(S.suite.expires_at) - LF.now();
      if (ms <= 0) { expired(); return; }
      maybeBeat();
      var s = Math.floor(ms / 1000);
      var h = Math.floor(s / 3600);
      var mm = String(Math.floor(s / 60) % 60);
      var ss = String(s % 60).padStart(2, '0');
      lease.textContent = t('lease.left', { time: (h ? h + ':' + mm.padStart(2, '0') : mm) + ':' + ss });
      lease.classList.toggle('warn', ms < 60000);
    }

    // Heartbeats: while the person is active (a key, a pointer or a touch since the last
    // heartbeat, in the last minute) the lease is extended, at most once a minute (every third
    // of the lease when that is shorter), so that a short lease never cuts off someone at work,
    // and a person gone quiet lets their items go to others.
    function active() { presence.active = Date.now(); }

    function maybeBeat() {
      var now = Date.now();
      var span = presence.leaseMs || 180000;
      var every = clamp(span / 3, 3000, 60000);
      var recent = clamp(span / 2, 5000, 60000);
      if (presence.sending || presence.active <= presence.beat || now - presence.active > recent || now - presence.beat < every) return;
      beat(S.suite);
    }

    function beat(suite) {
      presence.sending = true;
      presence.beat = Date.now();
      LF.api('POST', '/v1/projects/' + enc(project) + '/suites/' + enc(suite.id) + '/heartbeat').then(function (r) {
        presence.sending = false;
        if (!S.alive || S.suite !== suite || !r) return;
        if (r.lease_seconds) presence.leaseMs = r.lease_seconds * 1000;
        suite.expires_at = r.expires_at;
        suite.tasks.forEach(function (tk) {
          var url = r.media_urls && r.media_urls[String(tk.item)];
          if (url) tk.media_url = url;
        });
        save();
        tick();
      }, function (err) {
        presence.sending = false;
        if (!S.alive || S.suite !== suite) return;
        if (err.status === 410 || err.status === 404) expired(); // the lease is gone: say so now
      });
    }

    function giveBack() {
      var suite = S.suite;
      if (!suite) return;
      release.disabled = true;
      LF.api('POST', '/v1/projects/' + enc(project) + '/suites/' + enc(suite.id) + '/release').then(function () {
        LF.store.del(savedKey(project, suite.id));
        delete held[project];
        LF.toast(t('work.released'), 'ok');
        LF.go('#/');
      }, function (err) {
        release.disabled = false;
        LF.toast(LF.problem(err), 'error');
      });
    }

    function onKey(e) {
      if (!S.alive) return;
      var target = e.target || {};
      var tag = target.tagName || '';
      var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(tag) || !!target.isContentEditable;
      if (e.key === '?' && !typing && S.suite) { e.preventDefault(); toggleInstructions(); return; }
      if (e.key === 'Escape' && !instructions.hidden) { toggleInstructions(); return; }
      if (!S.editor || !S.editor.key) return;
      if ((e.key === 'Enter' || e.key === ' ') && /^(BUTTON|A|SUMMARY)$/.test(tag)) return; // the control acts
      if (S.editor.key(e, typing)) e.preventDefault();
    }

    var signs = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart', 'input'];
    signs.forEach(function (ev) { document.addEventListener(ev, active, { passive: true }); });
    document.addEventListener('keydown', onKey);
    watchers.push(outcome);
    var kept = held[project] || savedSuite(project);
    if (kept && Date.parse(kept.expires_at) > LF.now() && !queue.has(project, kept.id)) begin(kept, true);
    else claim();

    return function () {
      S.alive = false;
      awaited = null;
      stopLease();
      if (stageCleanup) stageCleanup();
      if (S.editor && S.editor.destroy) S.editor.destroy();
      document.removeEventListener('keydown', onKey);
      signs.forEach(function (ev) { document.removeEventListener(ev, active, { passive: true }); });
      watchers = watchers.filter(function (w) { return w !== outcome; });
    };
  }

  /* ---------- Editors: one per annotation type. Each gives {node, key(e, typing), focus, destroy}. ---------- */

  function editor(type, task, suite, prev, done) {
    if (isType(type, 'single-label')) return singleLabel(task, suite, prev, done);
    if (isType(type, 'multi-label')) return multiLabel(task, suite, prev, done);
    if (isType(type, 'bounding-box')) return boxEditor(task, suite, prev, done);
    if (isType(type, 'transcription')) return transcription(task, suite, prev, done);
    if (isType(type, 'named-entities')) return entities(task, suite, prev, done);
    return { node: el('p', { class: 'error' }, t('task.unsupported', { type: type })) };
  }

  function content(task) {
    var parts = [];
    if (task.media_url) {
      parts.push(el('img', {
        class: 'item-image', src: task.media_url, alt: t('task.image_alt'), decoding: 'async',
        width: task.width || null, height: task.height || null
      }));
    }
    if (task.source) parts.push(el('div', { class: 'item-text', dir: 'auto' }, task.source));
    if (!parts.length) parts.push(el('p', { class: 'muted' }, t('task.no_content')));
    return el('div', { class: 'item' }, parts);
  }

  function submitButton(label, onclick, disabled) {
    return el('button', { type: 'button', id: 'submit-item', class: 'primary', disabled: !!disabled, onclick: onclick }, label);
  }

  function optionButton(c, i, pressed, onclick) {
    return el('button', {
      type: 'button', class: 'option', 'data-class': c, 'aria-pressed': String(pressed),
      'aria-keyshortcuts': i < 9 ? String(i + 1) : null, onclick: onclick
    }, i < 9 ? el('kbd', { 'aria-hidden': 'true' }, String(i + 1)) : null, el('span', null, c));
  }

  function singleLabel(task, suite, prev, done) {
    var tax = suite.taxonomy || [];
    var chosen = tax.indexOf(prev);
    var buttons = tax.map(function (c, i) { return optionButton(c, i, i === chosen, function () { done(c); }); });
    var submit = submitButton(t('task.next'), function () { if (chosen >= 0) done(tax[chosen]); }, chosen < 0);
    function mark(i) {
      chosen = i;
      buttons.forEach(function (b, j) { b.setAttribute('aria-pressed', String(j === i)); });
      submit.disabled = i < 0;
    }
    return {
      node: [content(task), el('div', { class: 'options', role: 'group', 'aria-label': t('task.choose_one') }, buttons),
        el('p', { class: 'actions' }, submit), el('p', { class: 'hint' }, t('hint.single-label'))],
      key: function (e, typing) {
        if (typing || modified(e)) return false;
        var d = digit(e);
        if (d >= 0) {
          if (!e.repeat && d < tax.length) done(tax[d]);
          return true;
        }
        if (e.key === 'ArrowDown' || e.key === 'ArrowRight') { mark(Math.min(tax.length - 1, chosen + 1)); return true; }
        if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') { mark(Math.max(0, chosen - 1)); return true; }
        if (e.key === 'Enter') { if (chosen >= 0) done(tax[chosen]); return true; }
        return false;
      }
    };
  }

  function multiLabel(task, suite, prev, done) {
    var tax = suite.taxonomy || [];
    var on = tax.map(function (c) { return Array.isArray(prev) && prev.indexOf(c) >= 0; });
    var buttons = tax.map(function (c, i) { return optionButton(c, i, on[i], function () { toggle(i); }); });
    function toggle(i) {
      on[i] = !on[i];
      buttons[i].setAttribute('aria-pressed', String(on[i]));
    }
    function give() { done(tax.filter(function (c, i) { return on[i]; })); }
    return {
      node: [content(task), el('div', { class: 'options', role: 'group', 'aria-label': t('task.choose_many') }, buttons),
        el('p', { class: 'actions' }, submitButton(t('task.next'), give)), el('p', { class: 'hint' }, t('hint.multi-label'))],
      key: function (e, typing) {
        if (typing || modified(e)) return false;
        var d = digit(e);
        if (d >= 0) { if (!e.repeat && d < tax.length) toggle(d); return true; }
        if (e.key === 'Enter') { give(); return true; }
        return false;
      }
    };
  }

  function transcription(task, suite, prev, done) {
    var text = prev && typeof prev === 'object' ? prev.text : (typeof prev === 'string' ? prev : '');
    var area = el('textarea', { id: 'transcript', rows: 4, dir: 'auto', 'aria-describedby': 'transcript-hint', value: text || '' });
    var submit = submitButton(t('task.next'), give, !(text || '').trim());
    area.addEventListener('input', function () { submit.disabled = !area.value.trim(); });
    function give() { if (area.value.trim()) done({ text: area.value }); }
    return {
      node: [content(task), el('label', { for: 'transcript' }, t('task.transcript')), area,
        el('p', { class: 'actions' }, submit), el('p', { class: 'hint', id: 'transcript-hint' }, t('hint.transcription'))],
      key: function (e) {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { give(); return true; }
        return false;
      },
      focus: function () { area.focus(); }
    };
  }

  /* Named entities: the text is one span per code point; a selection is [from, to) in code points. */
  function entities(task, suite, prev, done) {
    var tax = suite.taxonomy || [];
    var chars = Array.from(task.source || '');
    var spans = ((prev && prev.spans) || []).map(function (s) { return { start: s.start, end: s.end, label: s.label }; });
    var sel = { a: 0, f: 0 }; // anchor and focus boundaries
    var down = -1; // the character a pointer went down on
    var tapped = -1; // on touch screens a second tap ends the selection the first began
    var cells = chars.map(function (c, i) { return el('span', { 'data-offset': i }, c); });
    var text = el('div', {
      id: 'ner-text', class: 'ner-text', dir: 'auto', tabindex: '0', role: 'textbox', 'aria-readonly': 'true',
      'aria-multiline': 'true', 'aria-label': t('ner.text'), 'aria-describedby': 'ner-hint'
    });
    var type = el('select', { id: 'entity-type' }, tax.map(function (c, i) {
      return el('option', { value: c }, (i < 9 ? (i + 1) + ' · ' : '') + c);
    }));
    var markButton = el('button', { type: 'button', id: 'mark-entity', onclick: function () { mark(type.value); } }, t('ner.mark'));
    var list = el('ul', { class: 'entity-list', 'aria-label': t('ner.list') });
    type.addEventListener('change', function () { if (range()) mark(type.value); });

    function range() {
      var lo = Math.min(sel.a, sel.f);
      var hi = Math.max(sel.a, sel.f);
      return hi > lo ? [lo, hi] : null;
    }

    function draw() {
      text.textContent = '';
      var i = 0;
      spans.sort(function (x, y) { return x.start - y.start; }).forEach(function (s) {
        for (; i < s.start; i++) text.appendChild(cells[i]);
        var m = el('mark', { class: 'entity', 'data-start': s.start, 'data-end': s.end, 'data-label': s.label });
        for (; i < s.end; i++) m.appendChild(cells[i]);
        text.appendChild(m);
      });
      for (; i < cells.length; i++) text.appendChild(cells[i]);
      list.textContent = '';
      spans.forEach(function (s) {
        list.appendChild(el('li', null, el('span', { class: 'tag' }, s.label), ' ',
          el('q', null, chars.slice(s.start, s.end).join('')), ' ',
          el('button', {
            type: 'button', class: 'quiet remove-entity', 'data-start': s.start,
            onclick: function () { spans = spans.filter(function (x) { return x !== s; }); draw(); text.focus(); }
          }, t('ner.remove'))));
      });
      paint();
    }

    function paint() {
      var r = range();
      cells.forEach(function (c, j) {
        c.classList.toggle('sel', !!r && j >= r[0] && j < r[1]);
        c.classList.toggle('caret', !r && j === sel.f);
      });
      text.classList.toggle('caret-end', !r && sel.f >= chars.length);
      markButton.disabled = !r;
    }

    function mark(label) {
      var r = range();
      if (!r || tax.indexOf(label) < 0) return;
      spans = spans.filter(function (s) { return s.end <= r[0] || s.start >= r[1]; });
      spans.push({ start: r[0], end: r[1], label: label });
      sel = { a: r[1], f: r[1] };
      draw();
      text.focus();
    }

    function removeAt() {
      var r = range() || [sel.f - 1, sel.f + 1];
      var before = spans.length;
      spans = spans.filter(function (s) { return s.end <= r[0] || s.start >= r[1]; });
      if (spans.length !== before) draw();
    }

    function offsetAt(x, y) {
      var node = document.elementFromPoint(x, y);
      var cell = node && node.closest && node.closest('[data-offset]');
      return cell && text.contains(cell) ? +cell.getAttribute('data-offset') : -1;
    }

    text.addEventListener('pointerdown', function (e) {
      var i = offsetAt(e.clientX, e.clientY);
      if (i < 0) return;
      e.preventDefault();
      text.focus();
      if (e.pointerType === 'touch') {
        if (tapped >= 0) { sel = { a: Math.min(tapped, i), f: Math.max(tapped, i) + 1 }; tapped = -1; }
        else { tapped = i; sel = { a: i, f: i + 1 }; }
        paint();
        return;
      }
      down = i;
      sel = { a: i, f: i + 1 };
      text.setPointerCapture(e.pointerId);
      paint();
    });
    text.addEventListener('pointermove', function (e) {
      if (down < 0) return;
      var i = offsetAt(e.clientX, e.clientY);
      if (i < 0) return;
      sel = { a: Math.min(down, i), f: Math.max(down, i) + 1 };
      paint();
    });
    function up() { down = -1; }
    text.addEventListener('pointerup', up);
    text.addEventListener('pointercancel', up);

    draw();
    return {
      node: [el('div', { class: 'ner-tools' }, el('label', { for: 'entity-type' }, t('ner.type')), type, markButton),
        text, list, el('p', { class: 'actions' }, submitButton(t('task.next'), give)),
        el('p', { class: 'hint', id: 'ner-hint' }, t('hint.named-entities'))],
      key: function (e, typing) {
        if (typing || e.ctrlKey || e.metaKey) return false;
        var step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
        if (step) {
          var f = clamp(sel.f + step, 0, chars.length);
          sel = e.shiftKey ? { a: sel.a, f: f } : { a: f, f: f };
          paint();
          return true;
        }
        if (e.key === 'Home' || e.key === 'End') {
          var to = e.key === 'Home' ? 0 : chars.length;
          sel = e.shiftKey ? { a: sel.a, f: to } : { a: to, f: to };
          paint();
          return true;
        }
        var d = digit(e);
        if (d >= 0 && !e.altKey) { if (d < tax.length) { type.value = tax[d]; mark(tax[d]); } return true; }
        if (e.key === 'Delete' || e.key === 'Backspace') { removeAt(); return true; }
        if (e.key === 'Escape') { sel = { a: sel.f, f: sel.f }; paint(); return true; }
        if (e.key === 'Enter') { give(); return true; }
        return false;
      },
      focus: function () { text.focus({ preventScroll: true }); }
    };

    function give() {
      done({ spans: spans.slice().sort(function (x, y) { return x.start - y.start; }) });
    }
  }

  /* Bounding boxes: kept in image pixels (integers). #canvas is the image at the current zoom,
     placed in a viewport that clips it; pan moves #canvas, zoom resizes it. */
  function boxEditor(task, suite, prev, done) {
    var tax = suite.taxonomy || [];
    var W = task.width || 0;
    var H = task.height || 0;
    var boxes = ((prev && prev.boxes) || []).map(function (b) {
      return { label: b.label, left: b.left, top: b.top, width: b.width, height: b.height };
    });
    var chosen = -1;
    var zoom = 1;
    var fitted = 1;
    var panX = 0;
    var panY = 0;
    var space = false;
    var drag = null;
    var pointers = {};

    var classes = el('select', { id: 'box-class' }, tax.map(function (c, i) {
      return el('option', { value: c }, (i < 9 ? (i + 1) + ' · ' : '') + c);
    }));
    var img = el('img', { src: task.media_url || '', alt: t('task.image_alt'), draggable: 'false' });
    var layer = el('div', { class: 'boxes' });
    var canvas = el('div', { id: 'canvas', class: 'canvas' }, img, layer);
    var viewport = el('div', {
      class: 'viewport', tabindex: '0', role: 'application', 'aria-label': t('box.area'), 'aria-describedby': 'box-hint'
    }, canvas);
    var zoomText = el('span', { class: 'zoom', 'aria-live': 'polite' });
    var remove = el('button', { type: 'button', id: 'delete-box', disabled: true, onclick: function () { drop(chosen); } }, t('box.delete'));
    var list = el('ol', { class: 'box-list', 'aria-label': t('box.list') });

    classes.addEventListener('change', function () {
      if (chosen >= 0) { boxes[chosen].label = classes.value; draw(); }
      viewport.focus({ preventScroll: true });
    });

    function layout() {
      canvas.style.width = W * zoom + 'px';
      canvas.style.height = H * zoom + 'px';
      canvas.style.left = panX + 'px';
      canvas.style.top = panY + 'px';
      canvas.setAttribute('data-zoom', String(zoom));
      canvas.setAttribute('data-width', String(W));
      canvas.setAttribute('data-height', String(H));
      zoomText.textContent = percent(zoom);
      draw();
    }

    function fit() {
      var r = viewport.getBoundingClientRect();
      if (!W || !H || !r.width) return;
      zoom = fitted = Math.min(r.width / W, r.height / H);
      panX = (r.width - W * zoom) / 2;
      panY = (r.height - H * zoom) / 2;
      layout();
    }

    function zoomAt(cx, cy, z) {
      var r = viewport.getBoundingClientRect();
      z = clamp(z, fitted / 4, Math.max(fitted * 16, 8));
      var x = (cx - r.left - panX) / zoom;
      var y = (cy - r.top - panY) / zoom;
      zoom = z;
      panX = cx - r.left - x * z;
      panY = cy - r.top - y * z;
      layout();
    }

    function zoomCentre(factor) {
      var r = viewport.getBoundingClientRect();
      zoomAt(r.left + r.width / 2, r.top + r.height / 2, zoom * factor);
    }

    function point(e) {
      var r = canvas.getBoundingClientRect();
      return { x: clamp((e.clientX - r.left) / zoom, 0, W), y: clamp((e.clientY - r.top) / zoom, 0, H) };
    }

    function draw() {
      layer.textContent = '';
      list.textContent = '';
      boxes.forEach(function (b, i) {
        var d = el('div', { class: 'box' + (i === chosen ? ' selected' : ''), 'data-index': i, 'data-label': b.label });
        d.style.left = b.left * zoom + 'px';
        d.style.top = b.top * zoom + 'px';
        d.style.width = b.width * zoom + 'px';
        d.style.height = b.height * zoom + 'px';
        d.appendChild(el('span', { class: 'box-tag' }, b.label));
        if (i === chosen) {
          ['nw', 'ne', 'sw', 'se'].forEach(function (h) { d.appendChild(el('span', { class: 'handle ' + h, 'data-h': h })); });
        }
        layer.appendChild(d);
        list.appendChild(el('li', { class: i === chosen ? 'selected' : null },
          el('button', { type: 'button', class: 'quiet', 'aria-pressed': String(i === chosen), onclick: function () { select(i); } },
            t('box.item', { label: b.label, left: b.left, top: b.top, width: b.width, height: b.height }))));
      });
      remove.disabled = chosen < 0;
    }

    function select(i) {
      chosen = i;
      if (i >= 0) classes.value = boxes[i].label;
      draw();
    }

    function drop(i) {
      if (i < 0) return;
      boxes.splice(i, 1);
      chosen = -1;
      draw();
      viewport.focus({ preventScroll: true });
    }

    // A box from two corners, rounded to whole pixels inside the image.
    function between(x0, y0, x1, y1) {
      var l = Math.round(clamp(Math.min(x0, x1), 0, W));
      var tp = Math.round(clamp(Math.min(y0, y1), 0, H));
      var r = Math.round(clamp(Math.max(x0, x1), 0, W));
      var b = Math.round(clamp(Math.max(y0, y1), 0, H));
      return { left: l, top: tp, width: r - l, height: b - tp };
    }

    function setBox(i, g) {
      var b = boxes[i];
      b.left = g.left; b.top = g.top; b.width = g.width; b.height = g.height;
    }

    viewport.addEventListener('pointerdown', function (e) {
      viewport.focus({ preventScroll: true });
      pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
      viewport.setPointerCapture(e.pointerId);
      e.preventDefault();
      var ids = Object.keys(pointers);
      if (ids.length === 2) { // two fingers: pinch and pan; a box begun by the first finger goes
        if (drag && drag.mode === 'draw' && drag.made) { boxes.pop(); chosen = -1; }
        var p = pointers[ids[0]];
        var q = pointers[ids[1]];
        drag = { mode: 'pinch', d: Math.hypot(p.x - q.x, p.y - q.y) || 1, z: zoom, mx: (p.x + q.x) / 2, my: (p.y + q.y) / 2, px: panX, py: panY };
        draw();
        return;
      }
      if (e.button === 1 || space) { drag = { mode: 'pan', x: e.clientX, y: e.clientY, px: panX, py: panY }; return; }
      if (e.button !== 0) return;
      var at = point(e);
      var handle = e.target.closest('.handle');
      var box = e.target.closest('.box');
      if (handle && chosen >= 0) {
        var b = boxes[chosen];
        var h = handle.getAttribute('data-h');
        // The corner opposite the handle stays put.
        drag = { mode: 'resize', i: chosen, x: h.indexOf('w') >= 0 ? b.left + b.width : b.left, y: h.indexOf('n') >= 0 ? b.top + b.height : b.top };
      } else if (box) {
        select(+box.getAttribute('data-index'));
        var o = boxes[chosen];
        drag = { mode: 'move', i: chosen, at: at, left: o.left, top: o.top };
      } else {
        drag = { mode: 'draw', at: at, made: false };
        select(-1);
      }
    });

    viewport.addEventListener('pointermove', function (e) {
      if (!pointers[e.pointerId]) return;
      pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
      if (!drag) return;
      if (drag.mode === 'pinch') {
        var ids = Object.keys(pointers);
        if (ids.length < 2) return;
        var p = pointers[ids[0]];
        var q = pointers[ids[1]];
        var r = viewport.getBoundingClientRect();
        var z = clamp(drag.z * (Math.hypot(p.x - q.x, p.y - q.y) / drag.d), fitted / 4, Math.max(fitted * 16, 8));
        var ix = (drag.mx - r.left - drag.px) / drag.z;
        var iy = (drag.my - r.top - drag.py) / drag.z;
        zoom = z;
        panX = (p.x + q.x) / 2 - r.left - ix * z;
        panY = (p.y + q.y) / 2 - r.top - iy * z;
        layout();
        return;
      }
      if (drag.mode === 'pan') {
        panX = drag.px + e.clientX - drag.x;
        panY = drag.py + e.clientY - drag.y;
        layout();
        return;
      }
      var at = point(e);
      if (drag.mode === 'draw') {
        var g = between(drag.at.x, drag.at.y, at.x, at.y);
        if (!drag.made) {
          if (g.width < 1 && g.height < 1) return;
          boxes.push({ label: classes.value || tax[0], left: 0, top: 0, width: 0, height: 0 });
          drag.made = true;
          chosen = boxes.length - 1;
        }
        setBox(chosen, g);
      } else if (drag.mode === 'move') {
        var b = boxes[drag.i];
        b.left = Math.round(clamp(drag.left + at.x - drag.at.x, 0, W - b.width));
        b.top = Math.round(clamp(drag.top + at.y - drag.at.y, 0, H - b.height));
      } else if (drag.mode === 'resize') {
        setBox(drag.i, between(drag.x, drag.y, at.x, at.y));
      }
      draw();
    });

    function up(e) {
      delete pointers[e.pointerId];
      if (!drag) return;
      if (drag.mode === 'pinch') { drag = Object.keys(pointers).length ? { mode: 'idle' } : null; return; }
      if (drag.mode === 'draw' && drag.made) {
        var g = between(drag.at.x, drag.at.y, point(e).x, point(e).y);
        setBox(chosen, g);
        if (g.width < 2 || g.height < 2) { boxes.splice(chosen, 1); chosen = -1; }
        else select(chosen);
      }
      if (drag.mode === 'resize' && (boxes[drag.i].width < 1 || boxes[drag.i].height < 1)) drop(drag.i);
      drag = null;
      draw();
    }
    viewport.addEventListener('pointerup', up);
    viewport.addEventListener('pointercancel', up);

    viewport.addEventListener('wheel', function (e) {
      e.preventDefault();
      zoomAt(e.clientX, e.clientY, zoom * Math.exp(-e.deltaY * 0.0015));
    }, { passive: false });

    function keyUp(e) { if (e.key === ' ') space = false; }
    document.addEventListener('keyup', keyUp);

    img.addEventListener('load', function () {
      if (!W || !H) { W = img.naturalWidth; H = img.naturalHeight; }
      fit();
    });
    function onResize() { if (zoom === fitted) fit(); }
    window.addEventListener('resize', onResize);

    function give() {
      done({ boxes: boxes.map(function (b) { return { label: b.label, left: b.left, top: b.top, width: b.width, height: b.height }; }) });
    }

    requestAnimationFrame(fit);
    return {
      node: [el('div', { class: 'box-tools' },
        el('label', { for: 'box-class' }, t('box.class')), classes,
        el('button', { type: 'button', id: 'zoom-out', 'aria-label': t('box.zoom_out'), 'aria-keyshortcuts': '-', onclick: function () { zoomCentre(1 / 1.25); } }, '−'),
        zoomText,
        el('button', { type: 'button', id: 'zoom-in', 'aria-label': t('box.zoom_in'), 'aria-keyshortcuts': '+', onclick: function () { zoomCentre(1.25); } }, '+'),
        el('button', { type: 'button', id: 'zoom-fit', 'aria-keyshortcuts': '0', onclick: fit }, t('box.fit')),
        remove),
      viewport, list, el('p', { class: 'actions' }, submitButton(t('task.next'), give)),
      el('p', { class: 'hint', id: 'box-hint' }, t('hint.bounding-box'))],
      key: function (e, typing) {
        if (typing || e.ctrlKey || e.metaKey) return false;
        if (e.key === ' ') { space = true; return true; }
        if (e.key === '+' || e.key === '=') { zoomCentre(1.25); return true; }
        if (e.key === '-' || e.key === '_') { zoomCentre(1 / 1.25); return true; }
        if (e.key === '0') { fit(); return true; }
        var d = digit(e);
        if (d >= 0) {
          if (d < tax.length) {
            classes.value = tax[d];
            if (chosen >= 0) { boxes[chosen].label = tax[d]; draw(); }
          }
          return true;
        }
        if ((e.key === 'Delete' || e.key === 'Backspace') && chosen >= 0) { drop(chosen); return true; }
        if (e.key === 'Escape') { select(-1); return true; }
        if ((e.key === 'n' || e.key === 'N') && boxes.length) { // the next (Shift: previous) box
          select((chosen + (e.shiftKey ? boxes.length - 1 : 1) + (chosen < 0 && e.shiftKey ? 1 : 0)) % boxes.length);
          return true;
        }
        var dx = { ArrowLeft: -1, ArrowRight: 1 }[e.key] || 0;
        var dy = { ArrowUp: -1, ArrowDown: 1 }[e.key] || 0;
        if (dx || dy) {
          var n = e.shiftKey ? 10 : 1;
          if (chosen >= 0) {
            var b = boxes[chosen];
            b.left = clamp(b.left + dx * n, 0, W - b.width);
            b.top = clamp(b.top + dy * n, 0, H - b.height);
            draw();
          } else {
            panX -= dx * 40;
            panY -= dy * 40;
            layout();
          }
          return true;
        }
        if (e.key === 'Enter') { give(); return true; }
        return false;
      },
      focus: function () { viewport.focus({ preventScroll: true }); },
      destroy: function () {
        document.removeEventListener('keyup', keyUp);
        window.removeEventListener('resize', onResize);
      }
    };
  }

  /* ---------- Arbitration: the answers side by side, unattributed ---------- */

  function arbitration(task, suite, done) {
    var own = null;
    var holder = el('div', { class: 'arbitration' });
    var candidates = task.answers.map(function (a, i) {
      var name = t('arb.answer', { n: String.fromCharCode(65 + i) });
      return el('section', { class: 'candidate', 'aria-label': name },
        el('h3', null, name),
        view(suite.annotation_type, task, a),
        el('button', { type: 'button', class: 'pick primary', 'aria-keyshortcuts': String(i + 1), onclick: function () { done(a); } },
          t('arb.pick', { key: i + 1 })));
    });
    var ownButton = el('button', { type: 'button', id: 'own-answer', 'aria-keyshortcuts': 'o', onclick: openOwn }, t('arb.own'));
    holder.appendChild(content(task));
    holder.appendChild(el('div', { class: 'candidates' }, candidates));
    holder.appendChild(el('p', { class: 'actions' }, ownButton));
    holder.appendChild(el('p', { class: 'hint' }, t('hint.arbitrate')));

    function openOwn() {
      own = editor(suite.annotation_type, task, suite, null, done);
      holder.textContent = '';
      holder.appendChild(el('p', null, el('button', { type: 'button', class: 'quiet', id: 'back-to-answers', onclick: back }, t('arb.back'))));
      holder.appendChild(el('div', { class: 'own' }, own.node));
      if (own.focus) own.focus();
    }
    function back() {
      if (own && own.destroy) own.destroy();
      own = null;
      holder.textContent = '';
      holder.appendChild(content(task));
      holder.appendChild(el('div', { class: 'candidates' }, candidates));
      holder.appendChild(el('p', { class: 'actions' }, ownButton));
    }
    return {
      node: holder,
      key: function (e, typing) {
        if (own) return own.key ? own.key(e, typing) : false;
        if (typing || modified(e)) return false;
        var d = digit(e);
        if (d >= 0) { if (!e.repeat && d < task.answers.length) done(task.answers[d]); return true; }
        if (e.key === 'o' || e.key === 'O') { openOwn(); return true; }
        return false;
      },
      destroy: function () { if (own && own.destroy) own.destroy(); }
    };
  }

  // view draws one answer, read-only.
  function view(type, task, a) {
    if (isType(type, 'single-label')) return el('p', { class: 'answer-label' }, String(a));
    if (isType(type, 'multi-label')) {
      var list = Array.isArray(a) ? a : [];
      return list.length ? el('ul', { class: 'answer-labels' }, list.map(function (c) { return el('li', null, c); }))
        : el('p', { class: 'muted' }, t('arb.none'));
    }
    if (isType(type, 'transcription')) {
      return el('blockquote', { class: 'answer-text', dir: 'auto' }, a && typeof a === 'object' ? a.text : String(a));
    }
    if (isType(type, 'named-entities')) return spansView(task.source || '', (a && a.spans) || []);
    if (isType(type, 'bounding-box')) return boxesView(task, (a && a.boxes) || []);
    return el('pre', null, JSON.stringify(a));
  }

  function spansView(source, spans) {
    var chars = Array.from(source);
    var out = el('p', { class: 'ner-text readonly', dir: 'auto' });
    var i = 0;
    spans.slice().sort(function (x, y) { return x.start - y.start; }).forEach(function (s) {
      if (s.start > i) out.appendChild(document.createTextNode(chars.slice(i, s.start).join('')));
      out.appendChild(el('mark', { class: 'entity', 'data-label': s.label }, chars.slice(s.start, s.end).join('')));
      i = Math.max(i, s.end);
    });
    out.appendChild(document.createTextNode(chars.slice(i).join('')));
    return out;
  }

  function boxesView(task, boxes) {
    var W = task.width;
    var H = task.height;
    var fig = el('div', { class: 'boxes-view' });
    var img = el('img', { src: task.media_url || '', alt: t('task.image_alt'), draggable: 'false' });
    fig.appendChild(img);
    function place() {
      W = W || img.naturalWidth;
      H = H || img.naturalHeight;
      if (!W || !H) return;
      boxes.forEach(function (b) {
        var d = el('div', { class: 'box', 'data-label': b.label }, el('span', { class: 'box-tag' }, b.label));
        d.style.left = (100 * b.left / W) + '%';
        d.style.top = (100 * b.top / H) + '%';
        d.style.width = (100 * b.width / W) + '%';
        d.style.height = (100 * b.height / H) + '%';
        fig.appendChild(d);
      });
    }
    if (W && H) place(); else img.addEventListener('load', place);
    return el('div', null, fig, el('p', { class: 'muted' }, t('arb.boxes', { n: boxes.length })));
  }

  /* ---------- Earnings ---------- */

  function earnings(root) {
    var alive = true;
    var month = el('section', { id: 'earnings-month', class: 'card', 'aria-busy': 'true' }, el('p', { class: 'muted' }, t('feed.loading')));
    var past = el('section', { class: 'statements' }, el('h2', null, t('earnings.past')));
    root.appendChild(el('h1', null, t('earnings.title')));
    root.appendChild(month);
    root.appendChild(past);

    LF.api('GET', '/v1/me/earnings').then(function (r) {
      if (!alive) return;
      current(r);
      statements(r.statements || []);
    }, function (err) {
      if (!alive || err.status === 401) return;
      month.removeAttribute('aria-busy');
      month.textContent = '';
      month.appendChild(el('p', { class: 'error' }, LF.problem(err)));
      LF.api('GET', '/v1/me/statements').then(function (r) { if (alive) statements(r.statements || []); }, function () {});
    });

    function current(r) {
      month.removeAttribute('aria-busy');
      month.textContent = '';
      var est = r.estimated || [];
      month.appendChild(el('h2', null, t('earnings.month', { month: LF.month(r.month) })));
      month.appendChild(el('p', { class: 'big' }, est.length ? est.map(function (x) { return LF.money(x.minor, x.currency); }).join(' + ')
        : LF.money(0, (LF.session.person.currency || 'USD'))));
      month.appendChild(el('p', { class: 'muted' }, t('earnings.estimated')));
      if ((r.lines || []).length) {
        month.appendChild(table([t('earnings.project'), t('earnings.kind'), t('earnings.count'), t('earnings.amount')],
          r.lines.map(function (l) { return [l.project, kindName(l.kind), LF.number(l.count), LF.money(l.minor, l.currency)]; })));
      } else {
        month.appendChild(el('p', null, t('earnings.none_yet')));
      }
    }

    function statements(list) {
      if (!list.length) { past.appendChild(el('p', { class: 'muted', id: 'no-statements' }, t('earnings.no_statements'))); return; }
      list.forEach(function (s) {
        var details = el('div', { class: 'statement-details', hidden: true });
        var open = el('button', { type: 'button', class: 'quiet', 'aria-expanded': 'false', onclick: toggle }, t('earnings.details'));
        var totals = Object.keys(s.totals || {}).map(function (c) { return LF.money(s.totals[c], c); }).join(' + ');
        past.appendChild(el('article', { class: 'statement card', 'data-month': s.month },
          el('h3', null, LF.month(s.month)), el('p', { class: 'big' }, totals || '—'), open, details));
        var loaded = false;
        function toggle() {
          details.hidden = !details.hidden;
          open.setAttribute('aria-expanded', String(!details.hidden));
          if (!loaded && !details.hidden) { loaded = true; statement(s.month, details); }
        }
      });
    }

    function statement(m, box) {
      box.appendChild(el('p', { class: 'muted' }, t('feed.loading')));
      Promise.all([LF.api('GET', '/v1/me/statements/' + enc(m)),
        LF.api('GET', '/v1/me/statements/' + enc(m) + '/items').catch(function () { return { items: [] }; })])
        .then(function (r) { box.textContent = ''; statementBody(r[0], (r[1] && r[1].items) || [], box); },
          function (err) { box.textContent = ''; box.appendChild(el('p', { class: 'error' }, LF.problem(err))); });
    }

    function statementBody(st, items, box) {
      var pay = st.pay || {};
      var cur = pay.payout_currency;
      (st.lines || []).forEach(function (l) {
        var mine = items.filter(function (it) {
          return it.project === l.project && it.role === l.role && !it.rejection && (it.adjustment || '') === (l.adjustment || '');
        });
        var itemsBox = el('ul', { class: 'items', hidden: true }, mine.map(function (it) {
          return el('li', null, el('code', null, it.item), ' · ', LF.date(it.accepted_at), ' · ', LF.money(it.amount, it.currency));
        }));
        var show = el('button', {
          type: 'button', class: 'quiet', 'aria-expanded': 'false', disabled: !mine.length,
          onclick: function () { itemsBox.hidden = !itemsBox.hidden; show.setAttribute('aria-expanded', String(!itemsBox.hidden)); }
        }, t('earnings.items', { n: mine.length }));
        box.appendChild(el('div', { class: 'line', 'data-project': l.project },
          el('p', null, el('strong', null, l.project), ' · ', kindName(l.role), ' · ', t('earnings.count_n', { n: l.count }), ' · ',
            LF.money(l.amount, l.currency), l.adjustment ? ' · ' + t('earnings.adjustment', { month: LF.month(l.work_month) }) : ''),
          show, itemsBox));
      });
      (st.rejected || []).forEach(function (l) {
        box.appendChild(el('p', { class: 'rejected' }, t('earnings.rejected', {
          project: l.project, n: l.count, amount: LF.money(l.amount, l.currency), reason: l.reason
        })));
      });
      if (cur) {
        var rows = [['earned', t('earnings.earned'), LF.money(pay.earned || 0, cur)]];
        if (pay.floor && pay.floor.top_up > 0) rows.push(['top-up', t('earnings.top_up'), LF.money(pay.floor.top_up, cur)]);
        rows.push(['total', t('earnings.total'), LF.money(pay.total || 0, cur)]);
        box.appendChild(el('dl', { class: 'facts pay' }, rows.map(function (r) {
          return el('div', { class: r[0] }, el('dt', null, r[1]), el('dd', null, r[2]));
        })));
      }
    }

    return function () { alive = false; };
  }

  function kindName(kind) {
    var key = 'kind.' + kind;
    var s = t(key);
    return s === key ? kind : s;
  }

  function table(heads, rows) {
    return el('table', null,
      el('thead', null, el('tr', null, heads.map(function (h) { return el('th', { scope: 'col' }, h); }))),
      el('tbody', null, rows.map(function (r) { return el('tr', null, r.map(function (c) { return el('td', null, c); })); })));
  }
})();
