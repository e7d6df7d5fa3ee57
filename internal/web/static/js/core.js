/* LabelFlow workbench core: the session, the message catalogue, the router and the LF helpers
   every screen uses. No framework: screens build elements with LF.el and never parse HTML. */
(function () {
  'use strict';

  var LANGS = ['en', 'fr'];
  var LF = (window.LF = {});
  var catalogue = {};
  var catalogues = {}; // lang → Promise<catalogue>
  var screens = {};
  var navLinks = [];
  var leaveScreen = null; // clean-up of the screen on show
  var $ = function (id) { return document.getElementById(id); };

  LF.lang = 'en';
  LF.session = null;
  LF.skew = 0; // the server's clock minus ours, in milliseconds

  // Local storage that never throws (private windows, full disks); values are JSON.
  LF.store = (function () {
    var mem = {};
    var ls = null;
    try {
      window.localStorage.setItem('lf.probe', '1');
      window.localStorage.removeItem('lf.probe');
      ls = window.localStorage;
    } catch (e) { ls = null; }
    function raw(key) { return ls ? ls.getItem(key) : (key in mem ? mem[key] : null); }
    return {
      get: function (key) {
        var v = raw(key);
        if (v == null) return null;
        try { return JSON.parse(v); } catch (e) { return null; }
      },
      set: function (key, value) {
        var v = JSON.stringify(value);
        try { if (ls) ls.setItem(key, v); else mem[key] = v; } catch (e) { mem[key] = v; }
      },
      del: function (key) {
        if (ls) ls.removeItem(key);
        delete mem[key];
      },
      keys: function (prefix) {
        var out = [];
        var all = ls ? Object.keys(ls) : Object.keys(mem);
        all.forEach(function (k) { if (k.indexOf(prefix) === 0) out.push(k); });
        return out;
      }
    };
  })();

  LF.now = function () { return Date.now() + LF.skew; };

  LF.t = function (key, params) {
    var s = Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : key;
    if (!params) return s;
    return s.replace(/\{(\w+)\}/g, function (m, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m;
    });
  };

  LF.el = function (tag, attrs) {
    var node = document.createElement(tag);
    var value;
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v == null || v === false) return;
        if (k.slice(0, 2) === 'on' && typeof v === 'function') node.addEventListener(k.slice(2), v);
        else if (k === 'class') node.className = v;
        else if (k === 'value') value = v;
        else node.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) add(node, arguments[i]);
    if (value !== undefined) node.value = value;
    return node;
  };

  function add(node, child) {
    if (child == null || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { add(node, c); }); return; }
    node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }

  // LF.api: JSON in and out with the session cookie; non-GET requests carry the CSRF token.
  LF.api = function (method, path, body) {
    var opts = { method: method, credentials: 'same-origin', headers: {} };
    if (method !== 'GET' && method !== 'HEAD') {
      if (LF.session) opts.headers['X-CSRF-Token'] = LF.session.csrf;
      if (body !== undefined) {
        opts.headers['Content-Type'] = 'application/json';
        opts.body = JSON.stringify(body);
      }
    }
    return fetch(path, opts).then(answer, function () {
      throw failure(0, 'offline', LF.t('error.offline'), 0);
    }).then(function (data) { return data; }, function (err) {
      if (err.status === 401 && path !== '/v1/session') signedOut(true);
      throw err;
    });
  };

  function answer(res) {
    var date = Date.parse(res.headers.get('Date') || '');
    if (!isNaN(date)) LF.skew = date - Date.now();
    if (res.status === 204) return null;
    return res.json().catch(function () { return null; }).then(function (data) {
      if (res.ok) return data;
      var e = (data && data.error) || {};
      throw failure(res.status, e.code || 'http_' + res.status, e.message || res.statusText,
        parseInt(res.headers.get('Retry-After'), 10) || 0);
    });
  }

  function failure(status, code, message, retryAfter) {
    var err = new Error(message);
    err.status = status;
    err.code = code;
    err.retryAfter = retryAfter;
    return err;
  }

  // LF.problem says what went wrong with a request in the person's language.
  LF.problem = function (err) {
    if (!err || !err.status) return LF.t('error.offline');
    if (err.status === 503 || err.status === 502 || err.status === 504) return LF.t('error.unavailable');
    if (err.status === 403) return LF.t('error.forbidden');
    if (err.status === 429) return LF.t('error.slow_down');
    return LF.t('error.failed', { detail: err.message });
  };

  LF.money = function (minor, currency) {
    try {
      var digits = new Intl.NumberFormat('en', { style: 'currency', currency: currency })
        .resolvedOptions().maximumFractionDigits;
      return new Intl.NumberFormat(LF.lang, { style: 'currency', currency: currency })
        .format(minor / Math.pow(10, digits));
    } catch (e) {
      return minor + ' ' + currency;
    }
  };

  LF.date = function (iso) {
    var d = new Date(iso);
    if (isNaN(d)) return String(iso);
    return new Intl.DateTimeFormat(LF.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
  };

  LF.month = function (month) {
    var m = /^(\d{4})-(\d{2})$/.exec(month || '');
    if (!m) return String(month);
    var d = new Date(Date.UTC(+m[1], +m[2] - 1, 15));
    return new Intl.DateTimeFormat(LF.lang, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(d);
  };

  LF.number = function (n, opts) { return new Intl.NumberFormat(LF.lang, opts).format(n); };

  // Screens. A render function may return a function to call when the screen is left.
  LF.route = function (name, render) { screens[name] = render; };

  LF.go = function (hash) {
    if (location.hash === hash) show();
    else location.hash = hash;
  };

  LF.nav = function (id, key, hash, roles) {
    navLinks = navLinks.filter(function (l) { return l.id !== id; });
    navLinks.push({ id: id, key: key, hash: hash, roles: roles || null });
    if (LF.session) drawNav();
  };

  var toastTimer = null;
  LF.toast = function (text, kind) {
    var box = $('status');
    box.textContent = text;
    box.className = 'toast show ' + (kind || 'info');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.className = 'toast'; box.textContent = ''; }, 5000);
  };

  function hashParts() {
    var h = location.hash.replace(/^#\/?/, '');
    return h ? h.split('/').map(function (p) { try { return decodeURIComponent(p); } catch (e) { return p; } }) : [];
  }

  function home() {
    var role = LF.session.person.role;
    if ((role === 'finance' || role === 'ops') && screens[role]) return role;
    return 'feed';
  }

  function show() {
    if (!LF.session) { signIn(); return; }
    leave();
    var parts = hashParts();
    var name = parts[0] || home();
    var main = $('main');
    main.textContent = '';
    markNav(parts[0] ? '#/' + parts[0] : '#/');
    var render = screens[name];
    if (!render) {
      main.appendChild(LF.el('section', { class: 'card', id: 'not-found' },
        LF.el('h1', null, LF.t('notfound.title')),
        LF.el('p', null, LF.el('a', { href: '#/' }, LF.t('notfound.home')))));
      return;
    }
    var out = render(main, parts.slice(1));
    if (typeof out === 'function') leaveScreen = out;
  }

  function leave() {
    var f = leaveScreen;
    leaveScreen = null;
    if (f) { try { f(); } catch (e) { /* a screen's clean-up never blocks the next one */ } }
  }

  function drawNav() {
    var nav = $('nav');
    nav.textContent = '';
    var role = LF.session && LF.session.person.role;
    navLinks.forEach(function (l) {
      if (l.roles && l.roles.indexOf(role) < 0) return;
      nav.appendChild(LF.el('a', { id: l.id, href: l.hash }, LF.t(l.key)));
    });
    nav.hidden = !nav.firstChild;
    markNav(location.hash.replace(/^(#\/[^/]*).*/, '$1') || '#/');
  }

  function markNav(hash) {
    Array.prototype.forEach.call($('nav').querySelectorAll('a'), function (a) {
      if (a.getAttribute('href') === hash) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
  }

  // Language: a choice made with the switcher wins, then the person's roster languages, then
  // the browser's.
  function pickLang() {
    var chosen = LF.store.get('lf.lang');
    if (LANGS.indexOf(chosen) >= 0) return chosen;
    var wanted = [];
    if (LF.session) wanted = wanted.concat(LF.session.person.languages || []);
    wanted = wanted.concat(navigator.languages || [navigator.language || 'en']);
    for (var i = 0; i < wanted.length; i++) {
      var l = String(wanted[i]).toLowerCase().slice(0, 2);
      if (LANGS.indexOf(l) >= 0) return l;
    }
    return 'en';
  }

  function loadCatalogue(lang) {
    if (!catalogues[lang]) {
      catalogues[lang] = fetch('/ui/messages/' + lang + '.json', { credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .catch(function (e) { delete catalogues[lang]; throw e; });
    }
    return catalogues[lang];
  }

  function useLang(lang) {
    return loadCatalogue(lang).then(function (c) {
      catalogue = c;
      LF.lang = lang;
      document.documentElement.lang = lang;
      document.title = LF.t('app.title');
      drawChrome();
    });
  }

  function drawChrome() {
    var sel = $('lang');
    sel.textContent = '';
    LANGS.forEach(function (l) {
      sel.appendChild(LF.el('option', { value: l, lang: l }, LF.t('lang.' + l)));
    });
    sel.value = LF.lang;
    $('lang-label').textContent = LF.t('lang.label');
    $('brand').textContent = LF.t('app.name');
    $('signout').textContent = LF.t('signout');
    $('signout').hidden = !LF.session;
    if (LF.session) {
      drawNav();
      $('who').textContent = LF.session.person.name || LF.session.person.id;
    } else {
      $('nav').hidden = true;
      $('who').textContent = '';
    }
    document.dispatchEvent(new CustomEvent('lf:chrome'));
  }

  function signIn(message) {
    leave();
    var main = $('main');
    main.textContent = '';
    var input = LF.el('input', {
      id: 'signin-token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false',
      autocapitalize: 'off', required: true, 'aria-describedby': 'signin-help'
    });
    var error = LF.el('p', { id: 'signin-error', class: 'error', role: 'alert' }, message || '');
    var button = LF.el('button', { id: 'signin-submit', type: 'submit', class: 'primary' }, LF.t('signin.submit'));
    var form = LF.el('form', { id: 'signin', class: 'card narrow', action: '#' },
      LF.el('h1', null, LF.t('signin.title')),
      LF.el('p', { id: 'signin-help' }, LF.t('signin.help')),
      LF.el('label', { for: 'signin-token' }, LF.t('signin.token')),
      input, error, button);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var token = input.value.trim();
      if (!token) { error.textContent = LF.t('signin.empty'); input.focus(); return; }
      button.disabled = true;
      error.textContent = '';
      LF.api('POST', '/v1/session', { token: token }).then(function (s) {
        input.value = '';
        start(s);
      }, function (err) {
        input.value = '';
        error.textContent = err.status === 401 ? LF.t('signin.wrong') : LF.problem(err);
        input.focus();
      }).then(function () { button.disabled = false; });
    });
    main.appendChild(form);
    input.focus();
  }

  function start(session) {
    LF.session = session;
    var lang = pickLang();
    return useLang(lang).catch(function () { drawChrome(); }).then(function () {
      if (!location.hash || location.hash === '#') history.replaceState(null, '', '#/');
      show();
      document.dispatchEvent(new CustomEvent('lf:signedin'));
    });
  }

  function signedOut(expired) {
    if (!LF.session) return;
    LF.session = null;
    drawChrome();
    signIn(expired ? LF.t('signin.expired') : '');
  }

  function signOut() {
    LF.api('DELETE', '/v1/session').catch(function () { /* the cookie goes anyway when it expires */ })
      .then(function () { signedOut(false); });
  }

  // Start-up: the session and the likely catalogue are asked for at once.
  var sessionAnswer = fetch('/v1/session', { credentials: 'same-origin' }).then(function (r) {
    var date = Date.parse(r.headers.get('Date') || '');
    if (!isNaN(date)) LF.skew = date - Date.now();
    return r.ok ? r.json() : null;
  }).catch(function () { return null; });
  var firstLang = pickLang();
  loadCatalogue(firstLang).catch(function () { /* retried by useLang */ });

  function boot() {
    $('lang').addEventListener('change', function (e) {
      LF.store.set('lf.lang', e.target.value);
      useLang(e.target.value).then(function () { if (LF.session) show(); else signIn(); });
    });
    $('signout').addEventListener('click', signOut);
    window.addEventListener('hashchange', function () { if (LF.session) show(); });
    sessionAnswer.then(function (s) {
      if (s && s.person) return start(s);
      return useLang(firstLang).catch(function () { drawChrome(); }).then(function () { signIn(); });
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
