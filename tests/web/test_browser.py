"""The web page driven in a real headless Chromium: cells -> a cell -> its graph -> an upstream milling step,
a filter, a CSV download, the escaping of stored text.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/system-deps.sh`` installs them where it can) and
selenium; skipped, with the reason, where any is missing. The server runs as ``aiida-ssb serve`` in a
subprocess over the test profile. Screenshots of each page go to ``$SSB_SCREENSHOTS`` when set (the docs'
screenshots are made this way), else into the test's temporary folder.
"""

from __future__ import annotations

import csv
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

from tests.web.conftest import ODD_ID, PELLET

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMEDRIVER = shutil.which('chromedriver') or '/usr/bin/chromedriver'
LAUNCH_FLAGS = (
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--window-size=1400,1000',
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@pytest.fixture(scope='module')
def server(lab, aiida_profile):
    pytest.importorskip('dash')
    from aiida.manage.configuration import get_config

    port = _free_port()
    env = dict(os.environ, AIIDA_PATH=get_config().dirpath, PYTHONWARNINGS='ignore')
    command = [
        sys.executable,
        '-c',
        'from aiida_ssb.cli import main; main()',
        '-p',
        aiida_profile.name,
        'serve',
        '--port',
        str(port),
    ]
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(url + '/', timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.seek(0)
                pytest.fail(f'aiida-ssb serve did not start:\n{log.read().decode(errors="replace")[-3000:]}')
            time.sleep(0.5)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    webdriver = pytest.importorskip('selenium.webdriver')
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip(f'headless Chromium not installed ({CHROMIUM}, {CHROMEDRIVER}): run .ci/system-deps.sh as root')
    downloads = tmp_path_factory.mktemp('downloads')
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in LAUNCH_FLAGS:
        options.add_argument(flag)
    options.add_argument(f'--user-data-dir={tmp_path_factory.mktemp("chromium-profile")}')
    options.add_experimental_option(
        'prefs', {'download.default_directory': str(downloads), 'download.prompt_for_download': False}
    )
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except WebDriverException as exc:
        pytest.skip(f'headless Chromium does not start here: {exc.msg}')
    driver.execute_cdp_cmd('Page.setDownloadBehavior', {'behavior': 'allow', 'downloadPath': str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()


@pytest.fixture(scope='module')
def shots(tmp_path_factory):
    folder = os.environ.get('SSB_SCREENSHOTS')
    path = pathlib.Path(folder) if folder else tmp_path_factory.mktemp('screenshots')
    path.mkdir(parents=True, exist_ok=True)

    def take(driver, name: str) -> pathlib.Path:
        height = driver.execute_script('return document.body.scrollHeight')
        driver.set_window_size(1400, max(900, min(int(height) + 40, 3000)))
        time.sleep(0.6)
        target = path / f'{name}.png'
        driver.save_screenshot(str(target))
        driver.set_window_size(1400, 1000)
        return target

    return take


def _wait(driver, condition, timeout: float = 60, message: str = ''):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.25).until(condition, message)


def _css(selector):
    from selenium.webdriver.common.by import By

    def found(driver):
        elements = driver.find_elements(By.CSS_SELECTOR, selector)
        return elements[0] if elements else False

    return found


def _text_in(selector, text):
    from selenium.webdriver.common.by import By

    def found(driver):
        elements = driver.find_elements(By.CSS_SELECTOR, selector)
        return elements[0] if elements and text in elements[0].text else False

    return found


def _cy_nodes(driver):
    return driver.execute_script(
        "const cy = document.getElementById('graph-view')._cyreg.cy;"
        "return cy.nodes().map(n => ({id: n.id(), label: n.data('label'), kind: n.data('kind'), sample: n.data('sample_id')}));"
    )


def _tap(driver, node_id: str) -> None:
    driver.execute_script(
        "const cy = document.getElementById('graph-view')._cyreg.cy; cy.getElementById(arguments[0]).emit('tap');",
        node_id,
    )


def test_click_through_cells_cell_graph_milling(server, browser, shots):
    from selenium.webdriver.common.by import By

    browser.get(server + '/cells')
    link = _wait(browser, _text_in(f'a.sample-link[href="/sample/{PELLET}"]', PELLET), message='cells table rows')
    _wait(browser, _text_in('#table-status', 'cells match'))
    shots(browser, 'cells')
    link.click()
    _wait(browser, _text_in('h1', PELLET), message='cell page')
    _wait(browser, _css('#sample-plot .main-svg'), message='the first plot')
    page = browser.find_element(By.TAG_NAME, 'body').text
    for heading in ('Record', 'Layers', 'History', 'Latest results', 'Plots', 'Raw files', 'Analysis history'):
        assert heading in page
    assert 'arrhenius' in page and 'activation_energy_ev' in page
    raw_links = browser.find_elements(By.CSS_SELECTOR, 'a.raw-link')
    assert len(raw_links) == 4 and all(a.get_attribute('href').startswith(server + '/download/raw/') for a in raw_links)
    shots(browser, 'cell')
    browser.find_element(By.ID, 'sample-graph-link').click()
    _wait(
        browser,
        lambda d: d.execute_script(
            "const e = document.getElementById('graph-view'); return e && e._cyreg && e._cyreg.cy.nodes().length > 3"
        ),
        message='graph',
    )
    nodes = _cy_nodes(browser)
    milling = next(n for n in nodes if n['kind'] == 'step' and n['label'].startswith('ball_milling'))
    summary = next(n for n in nodes if n['kind'] == 'result' and n['label'] == 'cell summary')
    shots(browser, 'graph')
    _tap(browser, milling['id'])
    _wait(browser, _text_in('#graph-details', 'duration_min'), message='milling parameters on click')
    details = browser.find_element(By.ID, 'graph-details').text
    assert 'ball_milling' in details and '30' in details
    browser.find_element(By.ID, 'graph-mark').click()
    _wait(browser, _text_in('#graph-message', 'path start'))
    _tap(browser, summary['id'])
    _wait(browser, _text_in('#graph-details', 'cell summary'))
    browser.find_element(By.ID, 'graph-path').click()
    _wait(browser, _text_in('#graph-message', 'highlighted'), message='path')
    on_path = browser.execute_script(
        "return document.getElementById('graph-view')._cyreg.cy.nodes('.path').map(n => n.data('label'));"
    )
    assert any(label.startswith('ball_milling') for label in on_path) and PELLET in on_path
    shots(browser, 'graph-path')
    upstream = next(n for n in nodes if n['kind'] == 'material' and n['label'].startswith('MM-NCB-30'))
    _tap(browser, upstream['id'])
    _wait(browser, _css('#graph-open-sample'), message='link to the milled powder').click()
    _wait(browser, _text_in('h1', 'MM-NCB-30'), message='the milled powder page')
    assert 'ball_milling' in browser.find_element(By.TAG_NAME, 'body').text


def test_filter_and_csv_download(server, browser, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server + '/cells')
    _wait(browser, _text_in('#table-status', 'cells match'))
    box = browser.find_element(By.ID, 'table-where')
    box.clear()
    box.send_keys('electrolyte.ball_milling.duration_min >= 30')
    lineage = browser.find_element(By.ID, 'table-lineage')
    lineage.send_keys('electrolyte.ball_milling.duration_min')
    browser.find_element(By.ID, 'table-apply').click()
    status = _wait(browser, _text_in('#table-status', 'duration_min >= 30'), message='filtered rows').text
    ids = {a.text for a in browser.find_elements(By.CSS_SELECTOR, 'a.sample-link')}
    assert PELLET in ids and 'PEL-NCB-15' not in ids and 'PEL-NCB-0' not in ids
    assert status.split()[0] == str(len(ids))
    shots(browser, 'cells-filtered')
    href = browser.find_element(By.ID, 'table-csv').get_attribute('href')
    assert 'where=' in href
    browser.find_element(By.ID, 'table-csv').click()
    target = browser.downloads / 'cells.csv'
    _wait(browser, lambda d: target.is_file() and target.stat().st_size > 0, message='cells.csv downloaded')
    rows = list(csv.DictReader(target.open()))
    assert {row['sample_id'] for row in rows} == ids
    assert all(float(row['electrolyte.ball_milling.duration_min']) >= 30 for row in rows)
    box = browser.find_element(By.ID, 'table-where')
    box.send_keys(Keys.CONTROL, 'a')  # React keeps the value: select it and type over it
    box.send_keys('no_such_field > 1')
    browser.find_element(By.ID, 'table-apply').click()
    assert 'unknown cell field' in _wait(browser, _css('#table-error .error')).text


def test_stored_text_is_escaped(server, browser, shots):
    from selenium.webdriver.common.by import By

    browser.get(server + '/sample/' + urllib.parse.quote(ODD_ID, safe=''))
    _wait(browser, _text_in('h1', ODD_ID), message='page of a sample id with + and /')
    assert browser.find_elements(By.ID, 'injected') == []  # the stored name is shown as text
    assert '<img id="injected"' in browser.find_element(By.TAG_NAME, 'body').text
    browser.get(server + '/compare?cells=' + urllib.parse.quote(f'{PELLET},PEL-NCB-45'))
    _wait(browser, _css('#compare-table table'), message='history differences')
    assert 'electrolyte.ball_milling.duration_min' in browser.find_element(By.ID, 'compare-table').text
    _wait(browser, _css('#compare-plots .main-svg'), message='overlaid curves')
    shots(browser, 'compare')
