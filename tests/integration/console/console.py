#!/usr/bin/python3
"""Drives the Cockpit page (snapin_export/cockpit) in headless Debian
chromium through chromedriver (Debian's python3-selenium), against three
cockpit-ws started by console_test.sh: ADMIN_URL's session runs as root,
MEMBER_URL's as nobody in the agent's admin_group (adm), VIEWER_URL's as
nobody without it. Checks what the page shows against what ipseccmd
(IPSECCMD, the same wrapper the page runs) says, saves a screenshot of each
page in SHOTS. Prints "ok - ..." per check; exits 1 at the first failure.

    console.py ADMIN_URL MEMBER_URL VIEWER_URL IPSECCMD SHOTS NS LOCAL PEER
"""
import json
import os
import subprocess
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

ADMIN_URL, MEMBER_URL, VIEWER_URL, IPSECCMD, SHOTS, NS, LOCAL, PEER = sys.argv[1:9]
WAIT = 30  # bound of each wait for the page (not a timing assertion)
PSK = "console-psk-Zq7"


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def ok(msg):
    print("ok - " + msg, flush=True)


def cmd(*args, check=True):
    p = subprocess.run([IPSECCMD, "--json", *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        fail("ipseccmd %s: %s" % (" ".join(args), p.stderr.strip()))
    return json.loads(p.stdout) if p.stdout.strip() else None


def browser(name):
    user_dir = os.path.normpath(os.path.join(SHOTS, "..", "chromium-" + name))
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
              "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--user-data-dir=" + user_dir,
              "--window-size=1280,1000"):
        o.add_argument(a)
    log = os.path.normpath(os.path.join(SHOTS, "..", "chromedriver-%s.log" % name))
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver", log_path=log),
                            options=o)


def until(d, what, fn):
    try:
        # the page re-renders its tables after each command: an element
        # found just before that is stale, and is looked up again
        return WebDriverWait(d, WAIT, poll_frequency=0.2,
                             ignored_exceptions=[StaleElementReferenceException]
                             ).until(lambda _: fn())
    except TimeoutException:
        shot(d, "failed")
        fail("%s (page: %s)" % (what, d.find_element(By.TAG_NAME, "main").text[:1500]))


def text(d, css):
    try:
        els = d.find_elements(By.CSS_SELECTOR, css)
        return els[0].text if els else ""
    except StaleElementReferenceException:
        return ""


def shot(d, name):
    """The whole page: the window made as tall as the document meanwhile."""
    size = d.get_window_size()
    h = d.execute_script("return document.documentElement.scrollHeight")
    d.set_window_size(size["width"], min(max(h + 120, size["height"]), 4000))
    d.save_screenshot(os.path.join(SHOTS, name + ".png"))
    d.set_window_size(size["width"], size["height"])


def tab(d, name):
    d.find_element(By.ID, "tab-" + name).click()


def fill(d, form, values):
    f = d.find_element(By.ID, form)
    for k, v in values.items():
        e = f.find_element(By.NAME, k)
        if e.tag_name == "select":
            Select(e).select_by_value(v)
        elif e.get_attribute("type") == "checkbox":
            if e.is_selected() != bool(v):
                e.click()
        else:
            e.clear()
            e.send_keys(v)
    return f


def press(d, kind, name, label):
    """Clicks the button LABEL in the row of the store's object NAME (kind:
    policy, filterlist, filteraction), looked up again if the table was
    re-rendered meanwhile."""
    def once():
        for b in d.find_elements(By.CSS_SELECTOR, "button[data-%s='%s']" % (kind, name)):
            if b.text == label:
                b.click()
                return True
        return False
    until(d, "button %r for %s %s" % (label, kind, name), once)


def store(kind, name):
    for o in cmd("static", "show", "all")[kind]:
        if o["name"] == name:
            return o
    return None


def ping(count=2):
    return subprocess.run(["ip", "netns", "exec", NS, "ping", "-c", str(count), "-W", "2",
                           PEER], capture_output=True).returncode == 0


def monitor(d):
    d.get(ADMIN_URL)
    until(d, "service state RUNNING", lambda: text(d, "#svc-state") == "RUNNING")
    qm = cmd("show", "qmsas")["qmsas"]
    if len(qm) != 1:
        fail("ipseccmd show qmsas: want 1 SA pair, got %d" % len(qm))
    spi = "%x" % qm[0]["spi_in"]
    until(d, "the Quick Mode SA (peer %s, SPI %s) in the monitor" % (PEER, spi),
          lambda: PEER in text(d, "#qmsas tbody") and spi in text(d, "#qmsas tbody"))
    until(d, "the Main Mode SA in the monitor", lambda: PEER in text(d, "#mmsas tbody"))
    pol = text(d, "#pol-force")
    if "Pair" not in pol or "local" not in pol:
        fail("policy in force: %r" % pol)
    ok("monitor: RUNNING, the Main Mode SA and the Quick Mode SA pair (SPI %s) of "
       "ipseccmd show qmsas, policy Pair from the local store" % spi)
    # Live: traffic between two refreshes moves the SA's bytes and gives a rate.
    first = text(d, "#refreshed")
    before = text(d, "#qmsas tbody")
    if not ping(5):
        fail("ping %s from %s" % (PEER, NS))
    until(d, "a refresh after the pings", lambda: text(d, "#refreshed") != first and
          text(d, "#qmsas tbody") != before)
    until(d, "a byte rate above 0 for the SA",
          lambda: any(c.strip(" ()").split(" ")[0] not in ("0", "") and "/s" in c
                      for c in text(d, "#qmsas tbody").split("(")[1:]))
    stats = text(d, "#stats tbody")
    if "Confidential sent bytes" not in stats or "/s" not in stats:
        fail("statistics without rates: %s" % stats[:500])
    ok("monitor refreshes by itself (%s): SA bytes and rates move after 5 pings"
       % text(d, "#refreshed"))
    shot(d, "monitor")
    # Service control: pause, continue (both audited as 5700).
    d.find_element(By.CSS_SELECTOR, "[data-svc=pause]").click()
    until(d, "PAUSED after Pause", lambda: text(d, "#svc-state") == "PAUSED")
    if cmd("service", "status")["state"] != "PAUSED":
        fail("the agent is not paused")
    d.find_element(By.CSS_SELECTOR, "[data-svc=continue]").click()
    until(d, "RUNNING after Continue", lambda: text(d, "#svc-state") == "RUNNING")
    if cmd("service", "status")["state"] != "RUNNING":
        fail("the agent is not running again")
    ok("service Pause then Continue from the page: ipseccmd service status agrees")


def keyboard_and_narrow(d):
    d.find_element(By.ID, "tab-monitor").send_keys(Keys.ARROW_RIGHT)
    until(d, "ArrowRight selects Policies", lambda: d.find_element(
        By.ID, "tab-policies").get_attribute("aria-selected") == "true" and
        d.switch_to.active_element.get_attribute("id") == "tab-policies")
    d.switch_to.active_element.send_keys(Keys.END)
    until(d, "End selects Events", lambda: d.switch_to.active_element.get_attribute(
        "id") == "tab-events" and d.find_element(By.ID, "events").is_displayed())
    d.switch_to.active_element.send_keys(Keys.HOME)
    until(d, "Home selects Monitor", lambda: d.find_element(By.ID, "monitor").is_displayed())
    ok("keyboard: the tabs follow ArrowRight, End and Home with the focus")
    d.set_window_size(420, 900)
    until(d, "a refresh at 420 px", lambda: "RUNNING" == text(d, "#svc-state"))
    wide = d.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth")
    if wide > 0:
        fail("at 420 px the page is %d px wider than the window" % wide)
    shot(d, "monitor-narrow")
    d.set_window_size(1280, 1000)
    ok("narrow window (420 px): no horizontal scroll of the page (tables scroll in "
       "their own box)")


def whatif(d):
    tab(d, "whatif")
    f = fill(d, "match-form", {"src": LOCAL, "dst": PEER, "proto": "icmp"})
    f.find_element(By.CSS_SELECTOR, "[type=submit]").click()
    want = cmd("match", "src=" + LOCAL, "dst=" + PEER, "proto=icmp")
    until(d, "the what-if answer", lambda: want["why"] in text(d, "#match-result"))
    r = text(d, "#match-result")
    for w in (want["rule"], want["filter"], want["filteraction"], "matched: negotiate"):
        if w not in r:
            fail("what-if: %r not in %r" % (w, r))
    shot(d, "whatif")
    ok("what-if %s -> %s icmp: rule %s, filter '%s', and why: %s"
       % (LOCAL, PEER, want["rule"], want["filter"], want["why"]))


def ids(d):
    """The event IDs of the Events tab's rows."""
    return {r.find_elements(By.TAG_NAME, "td")[2].text
            for r in d.find_elements(By.CSS_SELECTOR, "#ev-list tbody tr")
            if len(r.find_elements(By.TAG_NAME, "td")) > 2}


def events(d):
    tab(d, "events")
    fill(d, "ev-form", {"id": "5700", "max": "20"}).find_element(
        By.CSS_SELECTOR, "[type=submit]").click()
    # (the tab first shows every event: wait for the filtered list)
    until(d, "only 5700, the audited service.pause and service.continue among them",
          lambda: ids(d) == {"5700"} and "service.pause" in text(d, "#ev-list tbody")
          and "service.continue" in text(d, "#ev-list tbody"))
    if "Uid: 0" not in text(d, "#ev-list tbody"):
        fail("5700 without the uid")
    # By time: from an hour ago, all of them; from an hour ahead, none.
    fill(d, "ev-form", {"id": "", "since": "-1h", "max": "100"}).find_element(
        By.CSS_SELECTOR, "[type=submit]").click()
    n = len(cmd("events", "--max", "100")["events"])
    until(d, "the %d events of the last hour" % n, lambda: len(d.find_elements(
        By.CSS_SELECTOR, "#ev-list tbody tr")) == n and "IPSEC_POLICY_START" in
        text(d, "#ev-list tbody"))
    fill(d, "ev-form", {"since": str(int(time.time()) + 3600)}).find_element(
        By.CSS_SELECTOR, "[type=submit]").click()
    until(d, "no event from an hour ahead", lambda: text(d, "#ev-list tbody") == "No events")
    ok("events by time: since -1h the %d of ipseccmd events, since an hour ahead none" % n)
    fill(d, "ev-form", {"id": "5700", "since": ""}).find_element(
        By.CSS_SELECTOR, "[type=submit]").click()
    until(d, "5700 again", lambda: ids(d) == {"5700"})
    d.find_element(By.ID, "ev-verify").click()
    until(d, "the chain's verdict", lambda: "chain intact" in text(d, "#ev-verdict"))
    shot(d, "events")
    ok("events: ID 5700 shows only the Pause and Continue made from the page, "
       "with Uid 0; %s" % text(d, "#ev-verdict"))


def policies(d):
    tab(d, "policies")
    until(d, "the local store's policies", lambda: "Pair" in text(d, "#pol-list tbody"))
    names = [p["name"] for p in cmd("static", "show", "all")["policies"]]
    # A refused value: ipseccmd static's message beside the field, nothing kept.
    f = fill(d, "pol-form", {"policy": "Console", "dstaddr": "10.1.2.3/99",
                             "action": "block", "secret": PSK})
    f.find_element(By.CSS_SELECTOR, "[type=submit]").click()
    until(d, "an error beside Destination", lambda: text(d, "#err-dstaddr") != "")
    msg = text(d, "#err-dstaddr")
    if not msg.startswith("ipseccmd: dstaddr=10.1.2.3/99"):
        fail("field error is not ipseccmd's: %r" % msg)
    until(d, "the failed attempt undone",
          lambda: [p["name"] for p in cmd("static", "show", "all")["policies"]] == names)
    ok("a refused destination: %r beside the field; the half-made policy was removed" % msg)
    # The policy with one rule, assigned: the running agent applies it.
    f = fill(d, "pol-form", {"policy": "Console", "assign": True, "srcaddr": "me",
                             "dstaddr": PEER, "action": "block", "auth": "psk",
                             "secret": PSK})
    f.find_element(By.CSS_SELECTOR, "[type=submit]").click()
    until(d, "Console in the list", lambda: "Console" in text(d, "#pol-list tbody"))
    until(d, "the agent applying Console",
          lambda: cmd("show", "policy").get("name") == "Console")
    st = cmd("service", "status")
    if st["policy"] != "Console" or st["policy_source"] != "local":
        fail("service status: %s" % st)
    if ping(2):
        fail("ping still passes under the Console policy (block)")
    if PSK in d.page_source:
        fail("the preshared key is shown back")
    shot(d, "policies")
    ok("policy Console (filter me <-> %s, block, PSK) created and assigned from the "
       "page: ipseccmd show policy names it, ping is blocked, the key is not shown back"
       % PEER)
    key_exchange(d)
    fl = text(d, "#fl-list tbody")
    if "Console-filters" not in fl or "me -> %s" % PEER not in fl:
        fail("filter lists: %r" % fl)
    if "Console-action" not in text(d, "#fa-list tbody"):
        fail("filter actions: %r" % text(d, "#fa-list tbody"))
    # Unassign and delete from the lists.
    press(d, "policy", "Console", "Unassign")
    until(d, "Console unassigned", lambda: not store("policies", "Console")["assigned"])
    until(d, "the list updated", lambda: any(
        b.text == "Assign" for b in d.find_elements(By.CSS_SELECTOR, "button[data-policy=Console]")))
    press(d, "policy", "Console", "Delete")
    until(d, "Console deleted", lambda: store("policies", "Console") is None)
    until(d, "Console gone from the list", lambda: "Console\n" not in
          text(d, "#pol-list tbody") + "\n" and not d.find_elements(
              By.CSS_SELECTOR, "button[data-policy=Console]"))
    press(d, "filterlist", "Console-filters", "Delete")
    until(d, "Console-filters deleted", lambda: store("filterlists", "Console-filters") is None)
    press(d, "filteraction", "Console-action", "Delete")
    until(d, "Console-action deleted", lambda: store("filteractions", "Console-action") is None)
    ok("Unassign, Delete of the policy, of its filter list and of its filter action from "
       "their lists: gone from ipseccmd static show all")


def key_exchange(d):
    press(d, "policy", "Console", "Key exchange")
    f = d.find_element(By.ID, "ike-form")
    until(d, "the key exchange form", lambda: f.is_displayed() and
          f.find_element(By.NAME, "mmsecmethods").get_attribute("value") != "")
    fill(d, "ike-form", {"mmlifetime": "0"})
    f.find_element(By.CSS_SELECTOR, "[type=submit]").click()
    until(d, "an error beside the lifetime", lambda: text(d, "#err-mmlifetime") != "")
    msg = text(d, "#err-mmlifetime")
    if not msg.startswith("ipseccmd: mmlifetime=0"):
        fail("lifetime error is not ipseccmd's: %r" % msg)
    shot(d, "policies-ike")
    methods = "AES128-SHA1-14 3DES-SHA1-2"
    fill(d, "ike-form", {"mmlifetime": "240", "mmsecmethods": methods})
    f.find_element(By.CSS_SELECTOR, "[type=submit]").click()
    until(d, "the settings stored", lambda: store("policies", "Console")["mm_life_sec"] == 14400)
    p = store("policies", "Console")
    if p["mmsecmethods"] != methods.split():
        fail("mmsecmethods stored: %s" % p["mmsecmethods"])
    until(d, "the agent applying the new methods",
          lambda: len(cmd("show", "policy").get("mm_methods", [])) == 2)
    ok("key exchange of Console: lifetime 0 refused with %r beside the field; 240 min and "
       "%s stored and applied (ipseccmd show policy: 2 main mode methods)" % (msg, methods))


def member(d):
    """nobody with the group adm (agent A's admin_group): may control the
    service; the agent audits it with nobody's uid."""
    d.get(MEMBER_URL)
    until(d, "RUNNING for a member", lambda: text(d, "#svc-state") == "RUNNING")
    d.find_element(By.CSS_SELECTOR, "[data-svc=pause]").click()
    until(d, "PAUSED after the member's Pause", lambda: text(d, "#svc-state") == "PAUSED")
    d.find_element(By.CSS_SELECTOR, "[data-svc=continue]").click()
    until(d, "RUNNING after the member's Continue", lambda: text(d, "#svc-state") == "RUNNING")
    uid = str(int(subprocess.run(["id", "-u", "nobody"], capture_output=True,
                                 text=True).stdout))
    tab(d, "events")
    fill(d, "ev-form", {"id": "5700", "max": "2"}).find_element(
        By.CSS_SELECTOR, "[type=submit]").click()
    until(d, "the member's Pause and Continue audited with uid " + uid,
          lambda: ids(d) == {"5700"} and len(d.find_elements(
              By.CSS_SELECTOR, "#ev-list tbody tr")) == 2 and
          text(d, "#ev-list tbody").count("Uid: " + uid) == 2 and
          "service.pause" in text(d, "#ev-list tbody"))
    ev = cmd("events", "--id", "5700", "--max", "2")["events"]
    if [(e["fields"]["Command"], e["fields"]["Uid"]) for e in ev] != [
            ("service.pause", uid), ("service.continue", uid)]:
        fail("ipseccmd events: %s" % ev)
    shot(d, "member-events")
    ok("a member of the admin group (nobody + adm): Pause and Continue from the page, "
       "audited as 5700 with Uid %s" % uid)


def refused(d):
    d.get(VIEWER_URL)
    until(d, "not permitted on the monitor", lambda: "Not permitted" in text(d, "#svc-error"))
    if "access denied" not in text(d, "#svc-error"):
        fail("ipseccmd's words missing: %r" % text(d, "#svc-error"))
    d.find_element(By.CSS_SELECTOR, "[data-svc=stop]").click()
    until(d, "Stop refused", lambda: text(d, "#svc-action").startswith("Stop: Not permitted"))
    if cmd("service", "status")["state"] != "RUNNING":
        fail("a non-admin's Stop changed the service")
    words = text(d, "#svc-error").splitlines()[-1]
    shot(d, "refused-monitor")
    tab(d, "policies")
    before = cmd("static", "show", "all")
    f = fill(d, "pol-form", {"policy": "Intruder", "dstaddr": PEER, "secret": "x"})
    f.find_element(By.CSS_SELECTOR, "[type=submit]").click()
    until(d, "Not permitted beside the name", lambda: "Not permitted" in text(d, "#err-policy"))
    if cmd("static", "show", "all") != before:
        fail("a non-admin changed the store")
    shot(d, "refused-policies")
    ok("a user who is neither root nor in the admin group (nobody): 'Not permitted' "
       "with ipseccmd's %r; Stop and a new policy changed nothing"
       % words)


def main():
    os.makedirs(SHOTS, exist_ok=True)
    d = browser("admin")
    try:
        monitor(d)
        keyboard_and_narrow(d)
        whatif(d)
        events(d)
        policies(d)
    finally:
        d.quit()
    d = browser("member")
    try:
        member(d)
    finally:
        d.quit()
    d = browser("viewer")
    try:
        refused(d)
    finally:
        d.quit()


main()
