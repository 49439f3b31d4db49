/* The IPsec Policy Agent's Cockpit page (issue 20).
 *
 * One source of truth: every read and every change is an `ipseccmd --json`
 * run through cockpit.spawn() as the logged-in user (no superuser): the
 * control socket decides who may do what (root or admin_group), the agent
 * audits each privileged command with the caller's uid, and ipseccmd's own
 * messages are shown as it prints them. No file of the agent is read or
 * written by the page. */
"use strict";

(function () {
    const $ = id => document.getElementById(id);
    const POLL_MS = 2000;

    /* ipseccmd --json ARGS: resolves with the parsed output (null when it
     * printed nothing), rejects with {message, status, denied}. */
    function ipseccmd(args) {
        return new Promise((resolve, reject) => {
            cockpit.spawn(["ipseccmd", "--json"].concat(args), { err: "message" })
                .then(out => {
                    const text = (out || "").trim();
                    if (text === "") { resolve(null); return; }
                    try { resolve(JSON.parse(text)); } catch (e) {
                        reject({ message: "ipseccmd printed no JSON: " + text.slice(0, 200) });
                    }
                }, ex => {
                    let msg = (ex && ex.message ? ex.message : String(ex)).trim();
                    if (ex && ex.problem === "not-found")
                        msg = "ipseccmd is not installed (package ipsec-agent)";
                    const status = ex ? ex.exit_status : undefined;
                    reject({
                        message: msg,
                        status,
                        denied: status === 4 || /access denied|Permission denied/.test(msg),
                        stopped: status === 3,
                    });
                });
        });
    }

    /* The text shown for a failed command: a refusal is named as such,
     * then ipseccmd's words. */
    function errorText(err) {
        if (err.denied)
            return "Not permitted: only root and members of the agent's admin group " +
                "(ipsec-admins) may do this.\n" + err.message;
        return err.message;
    }

    function showError(id, err) {
        const el = $(id);
        if (!err) { el.hidden = true; el.textContent = ""; return; }
        el.textContent = errorText(err);
        el.hidden = false;
    }

    function el(tag, text, cls) {
        const e = document.createElement(tag);
        if (text !== undefined && text !== null) e.textContent = String(text);
        if (cls) e.className = cls;
        return e;
    }

    function row(cells, numeric) {
        const tr = el("tr");
        cells.forEach((c, i) => tr.appendChild(el("td", c, numeric && numeric[i] ? "num" : undefined)));
        return tr;
    }

    function fillTable(id, rows, emptyText) {
        const tbody = $(id).querySelector("tbody");
        tbody.textContent = "";
        if (rows.length === 0) {
            const td = el("td", emptyText, "empty");
            td.colSpan = $(id).querySelectorAll("thead th").length;
            tbody.appendChild(el("tr")).appendChild(td);
            return;
        }
        rows.forEach(r => tbody.appendChild(r));
    }

    function fillDl(id, pairs) {
        const dl = $(id);
        dl.textContent = "";
        pairs.forEach(([k, v]) => {
            if (v === undefined) return;
            dl.appendChild(el("dt", k));
            dl.appendChild(el("dd", v === null ? "—" : v));
        });
    }

    function bytes(n) {
        if (n < 1024) return n + " B";
        const u = ["KiB", "MiB", "GiB", "TiB"];
        let i = -1;
        do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
        return n.toFixed(1) + " " + u[i];
    }

    function duration(s) {
        if (s === undefined || s === null) return "—";
        if (s < 120) return s + " s";
        if (s < 7200) return Math.floor(s / 60) + " min";
        return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    }

    function rate(v) { return v === null ? "—" : (v < 10 ? v.toFixed(2) : v.toFixed(0)) + "/s"; }

    function label(key) {
        const s = key.replace(/_/g, " ");
        return s.charAt(0).toUpperCase() + s.slice(1);
    }

    function when(epoch) {
        return epoch ? new Date(epoch * 1000).toLocaleString() : "—";
    }

    /* ---- Tabs: arrows, Home and End move between them (WAI-ARIA). ---- */
    const tabs = Array.from(document.querySelectorAll("[role=tab]"));
    function selectTab(tab, focus) {
        tabs.forEach(t => {
            const on = t === tab;
            t.setAttribute("aria-selected", on ? "true" : "false");
            t.tabIndex = on ? 0 : -1;
            $(t.getAttribute("aria-controls")).hidden = !on;
        });
        if (focus) tab.focus();
        const panel = tab.getAttribute("aria-controls");
        if (panel === "policies") loadPolicies();
        if (panel === "events") loadEvents();
        if (panel === "monitor") refresh();
    }
    tabs.forEach((t, i) => {
        t.addEventListener("click", () => selectTab(t, false));
        t.addEventListener("keydown", ev => {
            let j = null;
            if (ev.key === "ArrowRight") j = (i + 1) % tabs.length;
            else if (ev.key === "ArrowLeft") j = (i + tabs.length - 1) % tabs.length;
            else if (ev.key === "Home") j = 0;
            else if (ev.key === "End") j = tabs.length - 1;
            if (j !== null) { ev.preventDefault(); selectTab(tabs[j], true); }
        });
    });

    /* ---- Monitor ---- */
    let prevStats = null; /* {t, values: {"table.key": n}} */
    let prevSas = {};     /* spi_in -> {t, bytes_in, bytes_out} */
    let refreshing = false;

    function flatStats(stats) {
        const out = {};
        Object.keys(stats).forEach(table => {
            if (typeof stats[table] !== "object") return;
            Object.keys(stats[table]).forEach(k => { out[table + "." + k] = stats[table][k]; });
        });
        return out;
    }

    function renderStats(stats, now) {
        const values = flatStats(stats);
        const dt = prevStats ? (now - prevStats.t) / 1000 : 0;
        const rows = [];
        let table = null;
        Object.keys(values).forEach(k => {
            const [t, key] = k.split(".");
            if (t !== table) {
                table = t;
                const th = el("th", { agent: "Agent", ipsec: "IPsec", oakley: "IKE (Oakley)" }[t] || t);
                th.colSpan = 3;
                const tr = el("tr", undefined, "pa-group");
                tr.appendChild(th);
                rows.push(tr);
            }
            let r = null;
            if (prevStats && dt > 0 && !/^(active|pending)_/.test(key) &&
                prevStats.values[k] !== undefined)
                r = Math.max(0, values[k] - prevStats.values[k]) / dt;
            rows.push(row([label(key), values[k], rate(r)], [false, true, true]));
        });
        prevStats = { t: now, values };
        fillTable("stats", rows, "No statistics");
    }

    function renderQm(list, now) {
        const next = {};
        const rows = list.map(sa => {
            const p = prevSas[sa.spi_in];
            const dt = p ? (now - p.t) / 1000 : 0;
            const rin = p && dt > 0 ? " (" + bytes(Math.round(Math.max(0, sa.bytes_in - p.bytes_in) / dt)) + "/s)" : "";
            const rout = p && dt > 0 ? " (" + bytes(Math.round(Math.max(0, sa.bytes_out - p.bytes_out) / dt)) + "/s)" : "";
            next[sa.spi_in] = { t: now, bytes_in: sa.bytes_in, bytes_out: sa.bytes_out };
            const prot = [];
            if (sa.esp) prot.push("ESP " + sa.esp_cipher + "/" + sa.esp_integ);
            if (sa.ah) prot.push("AH " + sa.ah_integ);
            if (sa.tunnel) prot.push("tunnel");
            const sel = sa.src + " → " + sa.dst + " " + sa.proto +
                (sa.sport ? " sport " + sa.sport : "") + (sa.dport ? " dport " + sa.dport : "");
            return row([sa.peer, sel, prot.join(", "),
                (sa.spi_in >>> 0).toString(16) + " / " + (sa.spi_out >>> 0).toString(16),
                bytes(sa.bytes_in) + rin, bytes(sa.bytes_out) + rout,
                sa.packets_in + " / " + sa.packets_out,
                duration(sa.age_sec), duration(sa.rekey_in_sec)]);
        });
        prevSas = next;
        fillTable("qmsas", rows, "No Quick Mode SAs");
    }

    function renderMm(list) {
        fillTable("mmsas", list.map(sa => row([
            sa.peer + (sa.peer_id && sa.peer_id !== sa.peer ? " (" + sa.peer_id + ")" : ""),
            sa.local, sa.auth, sa.cipher + "-" + sa.hash + "-" + sa.dh_group +
                (sa.established ? "" : " (negotiating)"),
            sa.qm_count, duration(sa.age_sec), duration(sa.expires_in_sec)])), "No Main Mode SAs");
    }

    function renderPolicy(st, pol) {
        const box = $("pol-force");
        box.textContent = "";
        if (!st || !st.policy) {
            box.appendChild(el("p", st ? "No policy in force (source: " + st.policy_source + ")" : "—"));
            return;
        }
        const dl = el("dl", undefined, "pa-dl");
        dl.id = "pol-force-dl";
        box.appendChild(dl);
        const dir = st.directory || {};
        fillDl("pol-force-dl", [
            ["Policy", st.policy],
            ["Source", st.policy_source + (st.policy_source === "local" ? " (local store)" : "")],
            ["GUID", st.policy_guid],
            ["Version", st.policy_version + (st.policy_pending ? " (a newer one is pending)" : "")],
            ["Applied", pol ? when(pol.applied) : undefined],
            ["Directory last poll", dir.last_poll !== undefined ? when(dir.last_poll) : undefined],
        ]);
        if (pol && pol.rules) {
            const t = el("table", undefined, "pa-table");
            t.appendChild(el("thead")).appendChild(row(["Rule", "Filter list", "Filter action", "Action", "Authentication", "Tunnel"]));
            const tb = t.appendChild(el("tbody"));
            pol.rules.forEach(r => tb.appendChild(row([r.name, r.filterlist, r.filteraction, r.action,
                (r.auth || []).join(", "), r.tunnel || "—"])));
            (pol.dynamic_rules || []).forEach(r => tb.appendChild(row([
                (r.name || "") + " (dynamic)", "—", "—", r.action || "", (r.auth || []).toString(), r.tunnel || "—"])));
            const w = el("div", undefined, "pa-scroll");
            w.appendChild(t);
            box.appendChild(w);
        }
    }

    function refresh() {
        if (refreshing || $("monitor").hidden || document.hidden) return;
        refreshing = true;
        ipseccmd(["service", "status"]).then(st => {
            $("svc-state").textContent = st.state;
            $("svc-state").className = "pa-state " + st.state;
            fillDl("svc-info", [
                ["Uptime", duration(st.uptime)], ["Driver", st.driver],
                ["IKE", st.ike ? "on" : "off"], ["Filters", st.filters],
                ["Dynamic rules", st.dynamic_rules], ["PID", st.pid],
            ]);
            return Promise.all([
                ipseccmd(["show", "mmsas"]), ipseccmd(["show", "qmsas"]),
                ipseccmd(["show", "stats"]), ipseccmd(["show", "policy"]),
            ]).then(([mm, qm, stats, pol]) => {
                const now = Date.now();
                renderMm(mm.mmsas);
                renderQm(qm.qmsas, now);
                renderStats(stats, now);
                renderPolicy(st, pol);
                showError("svc-error", null);
            });
        }).catch(err => {
            $("svc-state").textContent = err.stopped ? "STOPPED" : err.denied ? "no access" : "unknown";
            $("svc-state").className = "pa-state STOPPED";
            showError("svc-error", err);
        }).finally(() => {
            refreshing = false;
            $("refreshed").textContent = "Last refreshed " + new Date().toLocaleTimeString();
        });
    }

    document.querySelectorAll("[data-svc]").forEach(b => {
        b.addEventListener("click", () => {
            b.disabled = true;
            showError("svc-action", null);
            ipseccmd(["service", b.dataset.svc])
                .then(() => showError("svc-action", null), err => {
                    showError("svc-action", err);
                    $("svc-action").textContent = b.textContent + ": " + $("svc-action").textContent;
                })
                .finally(() => { b.disabled = false; refreshing = false; refresh(); });
        });
    });

    /* ---- Policies (local store, ipseccmd static) ---- */
    let policySource = "local";

    function policyRow(p) {
        const tr = el("tr");
        tr.appendChild(el("td", p.name));
        tr.appendChild(el("td", p.assigned ? "yes" : "no"));
        tr.appendChild(el("td", (p.rules || []).map(r => r.name + " (" + r.filterlist + " → " + r.filteraction +
            ", " + (r.auth || []).map(a => a.kind).join("/") + ")").join("; ") || "—"));
        const td = tr.appendChild(el("td"));
        const assign = el("button", p.assigned ? "Unassign" : "Assign");
        assign.dataset.policy = p.name;
        assign.addEventListener("click", () => changePolicy(["static", "set", "policy", "name=" + p.name,
            "assign=" + (p.assigned ? "no" : "yes")]));
        const del = el("button", "Delete", "pa-danger");
        del.dataset.policy = p.name;
        del.addEventListener("click", () => changePolicy(["static", "delete", "policy", "name=" + p.name]));
        const ike = el("button", "Key exchange");
        ike.dataset.policy = p.name;
        ike.addEventListener("click", () => editIke(p));
        [assign, ike, del].forEach(b => { td.appendChild(b); td.appendChild(document.createTextNode(" ")); });
        return tr;
    }

    function deleteButton(kind, name) {
        const b = el("button", "Delete", "pa-danger");
        b.dataset[kind] = name;
        b.addEventListener("click", () => changePolicy(["static", "delete", kind, "name=" + name]));
        const td = el("td");
        td.appendChild(b);
        return td;
    }

    function filterListRow(fl) {
        const tr = row([fl.name, (fl.filters || []).map(f => f.text).join("\n") || "—"]);
        tr.appendChild(deleteButton("filterlist", fl.name));
        return tr;
    }

    function filterActionRow(fa) {
        const tr = row([fa.name, fa.action + (fa.inpass ? ", inbound pass-through" : "") +
            (fa.soft ? ", soft" : ""), (fa.qmsecmethods || []).map(o => o.text).join("\n") || "—"]);
        tr.appendChild(deleteButton("filteraction", fa.name));
        return tr;
    }

    /* Key exchange settings: ipseccmd static set policy. */
    let ikePolicy = null;
    function editIke(p) {
        const f = $("ike-form");
        clearFieldErrors(f);
        ikePolicy = p.name;
        $("ike-policy").textContent = p.name;
        f.elements.mmsecmethods.value = (p.mmsecmethods || []).join(" ");
        f.elements.mmlifetime.value = Math.round(p.mm_life_sec / 60);
        f.elements.qmpermm.value = p.qm_per_mm;
        f.elements.mmpfs.checked = !!p.master_pfs;
        f.hidden = false;
        f.elements.mmsecmethods.focus();
    }
    $("ike-cancel").addEventListener("click", () => { $("ike-form").hidden = true; });
    $("ike-form").addEventListener("submit", ev => {
        ev.preventDefault();
        const f = ev.target;
        clearFieldErrors(f);
        const args = ["static", "set", "policy", "name=" + ikePolicy];
        ["mmsecmethods", "mmlifetime", "qmpermm"].forEach(n => {
            const x = f.elements[n].value.trim();
            if (x) args.push(n + "=" + x);
        });
        args.push("mmpfs=" + (f.elements.mmpfs.checked ? "yes" : "no"));
        ipseccmd(args).then(() => { f.hidden = true; loadPolicies(); },
            err => fieldError(f, [["mmsecmethods", "mmsecmethods"], ["mmlifetime", "mmlifetime"],
                ["qmpermm", "qmpermm"], ["mmpfs", "mmpfs"]], err));
    });

    function changePolicy(args) {
        ipseccmd(args).then(() => showError("pol-error", null), err => showError("pol-error", err))
            .finally(loadPolicies);
    }

    function loadPolicies() {
        ipseccmd(["service", "status"]).then(st => { policySource = st.policy_source; }, () => {})
            .finally(() => {
                const dom = $("pol-domain");
                dom.hidden = policySource === "local";
                dom.textContent = "The policy in force comes from the " + policySource +
                    " (see Monitor): it is shown there read-only and cannot be edited here. " +
                    "The local store below applies when the agent's policy source is local.";
            });
        ipseccmd(["static", "show", "all"]).then(all => {
            fillTable("pol-list", (all.policies || []).map(policyRow), "No policy in the local store");
            fillTable("fl-list", (all.filterlists || []).map(filterListRow), "No filter list");
            fillTable("fa-list", (all.filteractions || []).map(filterActionRow), "No filter action");
        }, err => showError("pol-error", err));
    }
    $("pol-reload").addEventListener("click", loadPolicies);

    function clearFieldErrors(form) {
        form.querySelectorAll(".pa-field-error").forEach(e => e.remove());
        form.querySelectorAll("[aria-invalid]").forEach(e => e.removeAttribute("aria-invalid"));
    }

    /* Shows ipseccmd's message beside the field its "key=" names (among
     * the fields of the step that failed), else beside the step's first. */
    function fieldError(form, fields, err) {
        const m = /^ipseccmd: ([a-z]+)=/.exec(err.message);
        let name = fields[0][1];
        if (m) fields.forEach(([key, field]) => { if (key === m[1]) name = field; });
        const input = form.elements[name];
        input.setAttribute("aria-invalid", "true");
        const msg = el("span", errorText(err), "pa-field-error");
        msg.id = "err-" + name;
        input.setAttribute("aria-describedby", msg.id);
        input.insertAdjacentElement("afterend", msg);
        input.focus();
    }

    $("pol-form").addEventListener("submit", ev => {
        ev.preventDefault();
        const f = ev.target;
        clearFieldErrors(f);
        showError("form-error", null);
        const v = n => f.elements[n].value.trim();
        const pol = v("policy");
        const fl = v("filterlist") || pol + "-filters";
        const fa = v("filteraction") || pol + "-action";
        const rule = v("rule") || pol + "-rule";
        const filter = ["static", "add", "filter", "filterlist=" + fl, "srcaddr=" + v("srcaddr"),
            "dstaddr=" + v("dstaddr"), "mirrored=yes"];
        if (v("protocol")) filter.push("protocol=" + v("protocol"));
        const action = ["static", "add", "filteraction", "name=" + fa, "action=" + v("action")];
        if (v("action") === "negotiate") action.push("qmsecmethods=" + v("qmsecmethods"));
        const r = ["static", "add", "rule", "name=" + rule, "policy=" + pol, "filterlist=" + fl,
            "filteraction=" + fa, "conntype=" + v("conntype")];
        if (v("tunnel")) r.push("tunnel=" + v("tunnel"));
        const secret = f.elements.secret.value;
        if (v("auth") === "kerberos") r.push("kerberos=yes");
        else if (v("auth") === "psk") r.push("psk=" + secret);
        else r.push("rootca=" + secret);
        /* each step: its command, the fields its keys name, and how to
         * undo it when a later step fails */
        const steps = [
            { args: ["static", "add", "policy", "name=" + pol], fields: [["name", "policy"]],
                undo: ["static", "delete", "policy", "name=" + pol] },
            { args: ["static", "add", "filterlist", "name=" + fl], fields: [["name", "filterlist"]],
                undo: ["static", "delete", "filterlist", "name=" + fl] },
            { args: filter, fields: [["srcaddr", "srcaddr"], ["dstaddr", "dstaddr"], ["protocol", "protocol"], ["filterlist", "filterlist"]] },
            { args: action, fields: [["name", "filteraction"], ["action", "action"], ["qmsecmethods", "qmsecmethods"]],
                undo: ["static", "delete", "filteraction", "name=" + fa] },
            { args: r, fields: [["name", "rule"], ["tunnel", "tunnel"], ["conntype", "conntype"],
                ["psk", "secret"], ["rootca", "secret"], ["kerberos", "auth"]] },
        ];
        if (f.elements.assign.checked)
            steps.push({ args: ["static", "set", "policy", "name=" + pol, "assign=yes"], fields: [["name", "policy"]] });
        const done = [];
        const button = f.querySelector("[type=submit]");
        button.disabled = true;
        steps.reduce((p, s) => p.then(() => ipseccmd(s.args).then(() => {
            if (s.undo) done.unshift(s.undo);
        }, err => { throw { err, step: s }; })), Promise.resolve()).then(() => {
            f.elements.secret.value = "";
            f.reset();
            loadPolicies();
        }, failure => {
            fieldError(f, failure.step.fields, failure.err);
            if (failure.err.denied) showError("form-error", failure.err);
            /* undo what this attempt added, newest first */
            return done.reduce((p, u) => p.then(() => ipseccmd(u).catch(() => {})), Promise.resolve())
                .then(loadPolicies);
        }).finally(() => { button.disabled = false; });
    });

    /* ---- What-if ---- */
    $("match-form").addEventListener("submit", ev => {
        ev.preventDefault();
        const f = ev.target;
        const args = ["match"];
        ["src", "dst", "proto", "srcport", "dstport", "dir"].forEach(n => {
            const x = f.elements[n].value.trim();
            if (x) args.push(n + "=" + x);
        });
        showError("match-error", null);
        ipseccmd(args).then(m => {
            fillDl("match-result", m.matched ? [
                ["Result", "matched: " + m.action], ["Policy", m.policy], ["Rule", m.rule],
                ["Filter list", m.filterlist], ["Filter", m.filter], ["Filter action", m.filteraction],
                ["Offers", (m.offers || []).join(", ") || undefined], ["SPD entry", m.entry],
                ["Why", m.why], ["Other matching entries", m.other_matches],
                ["Answered by", m.source], ["Direction", m.direction],
            ] : [["Result", "no filter matches: the packet is not affected by IPsec"],
                ["Policy", m.policy], ["Why", m.why], ["Answered by", m.source]]);
        }, err => { fillDl("match-result", []); showError("match-error", err); });
    });

    /* ---- Events ---- */
    function loadEvents() {
        const f = $("ev-form");
        const args = ["events"];
        [["id", "--id"], ["since", "--since"], ["max", "--max"]].forEach(([n, opt]) => {
            const x = f.elements[n].value.trim();
            if (x) args.push(opt, x);
        });
        showError("ev-error", null);
        ipseccmd(args).then(r => {
            fillTable("ev-list", (r.events || []).slice().reverse().map(e => row([
                e.seq, e.time, e.id, e.event,
                Object.keys(e.fields || {}).map(k => k + ": " + e.fields[k]).join("\n")])),
            "No events");
        }, err => showError("ev-error", err));
    }
    $("ev-form").addEventListener("submit", ev => { ev.preventDefault(); loadEvents(); });
    $("ev-verify").addEventListener("click", () => {
        const box = $("ev-verdict");
        ipseccmd(["events", "--verify"]).then(v => {
            box.textContent = (v.ok ? "Chain verified: " : "Chain NOT verified: ") + v.verdict;
            box.className = v.ok ? "pa-info" : "pa-error";
            box.hidden = false;
        }, err => {
            box.textContent = errorText(err);
            box.className = "pa-error";
            box.hidden = false;
        });
    });

    document.addEventListener("visibilitychange", refresh);
    setInterval(refresh, POLL_MS);
    refresh();
})();
