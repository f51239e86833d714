"""Council profiles for the HTML report: one ``<details id="council-<GSS code>">`` per council.

The page carries one ``<details>`` (its summary: name, region, map code) per council, so that a
link ``#council-E08000035`` from the lookup, a hexagon of a map or a search result opens it in one
step. The profile body (small-multiple sparklines of the five measures against England and the
statistical-neighbour median, the values by year with the reason for every missing year, the
named neighbours, the inspection history and the position in the distribution) is built in the
browser from one JSON block by a small vanilla script (no CDN; every data value is set as text
with ``textContent``, never as markup); the JSON is escaped for a ``<script>`` element
(:func:`json_for_script`). Search normalises case, punctuation and "&"/"and" and matches word
starts ("St Helens" finds "St. Helens", "Hull" finds Kingston upon Hull and not Solihull).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .profiles import MEASURES, SUB_JUDGEMENTS, Profiles, escape_html

GRADE_ABBR = {"Outstanding": "O", "Good": "G", "Requires improvement": "RI", "Inadequate": "I", "": "–"}


def anchor(gss: str) -> str:
    """The id of a council's profile: ``council-`` and its ONS GSS code."""
    return f"council-{gss}"


def json_for_script(obj) -> str:
    """``obj`` as JSON that cannot end or alter a ``<script>`` element.

    Notes
    -----
    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e``, ``\\u0026`` (JSON string
    escapes), so no ``</script>`` or ``<!--`` can appear; the script reads it with ``JSON.parse``.
    ``@``, ``{`` of a ``{{<`` and ``$`` are escaped too (``\\u0040``, ``\\u007b``, ``\\u0024``), so
    neither a cross-reference or citation (``@fig-x``) nor a shortcode can be read out of the
    data by a text pass over the document (the lite engine's, or a Quarto filter's).
    """
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.replace("@", "\\u0040").replace("{{", "\\u007b\\u007b").replace("$", "\\u0024")


def _num(x, digits: int):
    return None if x is None or pd.isna(x) else round(float(x), digits)


def profile_data(p: Profiles) -> dict:
    """The JSON the script builds profiles from (values rounded to the digits shown)."""
    years = sorted(p.series["year"].unique().tolist())
    digits = {m: MEASURES[m][3] for m in p.measures}
    reasons = sorted(set(p.series["reason"]) - {""})
    rid = {r: i for i, r in enumerate(reasons)}
    s = p.series.set_index(["la_code", "measure", "year"]).sort_index()
    eng = s.groupby(level=["measure", "year"])["england"].first()
    pos = p.position.set_index(["la_code", "measure"])
    nb = p.neighbours.groupby("la_code")
    insp = p.inspections.groupby("la_code")
    councils = []
    for c in p.councils.itertuples(index=False):
        la = c.la_code
        own = s.loc[la]
        entry = {"id": c.gss_code, "la": la, "name": c.la_name, "region": c.region, "map": c.map_code,
                 "small": bool(c.small_la), "joint": bool(c.joint_return), "v": {}, "sn": {}, "why": {}, "pos": {}}
        for m in p.measures:
            rows = own.loc[m]
            entry["v"][m] = [_num(x, digits[m]) for x in rows["value"]]
            entry["sn"][m] = [_num(x, digits[m]) for x in rows["sn_median"]]
            why = {str(int(y)): rid[r] for y, r in rows["reason"].items() if r}
            if why:
                entry["why"][m] = why
            if (la, m) in pos.index:
                q = pos.loc[(la, m)]
                entry["pos"][m] = [int(q["year"]), _num(q["value"], digits[m]), int(q["rank"]), int(q["n"]),
                                   int(round(float(q["percentile"]))), q["band"]]
        entry["nb"] = ([[r.neighbour_gss, r.neighbour_name, [_num(getattr(r, m), digits[m]) for m in p.measures]]
                        for r in nb.get_group(la).itertuples(index=False)] if la in nb.groups else [])
        cols = ["published", "framework", "type", "overall", *SUB_JUDGEMENTS.values()]
        entry["insp"] = insp.get_group(la)[cols].values.tolist() if la in insp.groups else []
        councils.append(entry)
    return {"year": p.year, "years": [int(y) for y in years], "reasons": reasons,
            "measures": [{"id": m, "label": MEASURES[m][0], "short": MEASURES[m][1], "unit": MEASURES[m][2],
                          "digits": MEASURES[m][3], "polarity": MEASURES[m][4] or ""} for m in p.measures],
            "england": {m: [_num(eng.get((m, y), np.nan), digits[m]) for y in years] for m in p.measures},
            "subs": list(SUB_JUDGEMENTS.values()), "grades": GRADE_ABBR, "councils": councils}


CSS = """
.csc-prof-root{font-family:var(--font-ui);font-size:.88rem}
.csc-prof-root label{display:block;font-weight:600;margin:.3rem 0}
.csc-prof-root input{box-sizing:border-box;width:100%;max-width:28rem;padding:.4rem .5rem;font-size:1rem;border:1px solid #8c959f;border-radius:4px}
.csc-prof-list{list-style:none;padding:0;margin:.5rem 0}
details.csc-prof{border-bottom:1px solid #d8dee4;padding:.15rem 0}
details.csc-prof>summary{cursor:pointer;padding:.25rem 0;font-weight:600}
details.csc-prof>summary small{font-weight:400;color:#57606a;margin-left:.4rem}
details.csc-prof[open]>summary{color:#1a5490}
details.csc-prof:target,details.csc-prof[open]{background:#f6f8fa}
.csc-prof-body{padding:.2rem .4rem .6rem}
.csc-prof-body h4{margin:.6rem 0 .2rem;font-size:.95rem}
.csc-sm{display:grid;grid-template-columns:repeat(auto-fill,minmax(8.6rem,1fr));gap:.4rem}
.csc-sm figure{margin:0;padding:.25rem;border:1px solid #d8dee4;border-radius:4px;background:#fff;text-align:left}
.csc-sm figcaption{margin:0;font-size:.8rem;color:#1f2328}
.csc-sm svg{display:block;width:100%;height:auto}
.csc-sm .csc-band{font-size:.75rem;color:#57606a}
.csc-key{font-size:.78rem;color:#57606a}
.csc-key i{display:inline-block;width:1.4em;height:0;border-top:2px solid #1a5490;vertical-align:middle;margin:0 .2em}
.csc-key i.e{border-top:2px dashed #6e7781}.csc-key i.n{border-top:2px dotted #b35806}
.csc-prof-body table{font-size:.78rem;margin:.3rem 0;width:auto}
.csc-prof-body td,.csc-prof-body th{padding:.15rem .35rem;text-align:right;white-space:nowrap}
.csc-prof-body td:first-child,.csc-prof-body th:first-child{text-align:left}
.csc-prof-body .csc-nb th:first-child{white-space:normal;min-width:7.5rem}
.csc-prof-body .csc-nb a{overflow-wrap:normal}
.csc-prof-body ul{margin:.2rem 0;padding-left:1.1rem}
.csc-prof-count{color:#57606a;margin:.3rem 0}
""".strip()

JS = r"""
(function(){
var root=document.getElementById('csc-profiles');if(!root)return;
var D=JSON.parse(document.getElementById('csc-prof-data').textContent),by={};
D.councils.forEach(function(c){by[c.id]=c;});
var SVG='http://www.w3.org/2000/svg';
function el(tag,text,cls){var e=document.createElement(tag);if(text!=null)e.textContent=text;if(cls)e.className=cls;return e;}
function sv(tag,at){var e=document.createElementNS(SVG,tag);for(var k in at)e.setAttribute(k,at[k]);return e;}
function fmt(v,m){if(v==null)return '\u2013';var s=v.toLocaleString('en-GB',{minimumFractionDigits:m.digits,maximumFractionDigits:m.digits}).replace('-','\u2212');return m.unit==='\u00a3'?'\u00a3'+s:s;}
function spark(c,m){
  var W=160,H=56,P=4,ys=D.years,vals=[c.v[m.id],D.england[m.id],c.sn[m.id]],all=[];
  vals.forEach(function(a){a.forEach(function(x){if(x!=null)all.push(x);});});
  var svg=sv('svg',{viewBox:'0 0 '+W+' '+H,role:'img'});
  if(!all.length)return svg;
  var lo=Math.min.apply(null,all),hi=Math.max.apply(null,all);if(hi===lo){hi+=1;lo-=1;}
  function X(i){return P+i*(W-2*P)/(ys.length-1);}function Y(v){return H-P-(v-lo)*(H-2*P)/(hi-lo);}
  var st=[['#6e7781','4 3'],['#b35806','1.5 2.5']];
  [2,1,0].forEach(function(k){var a=vals[k],d='',pen=false;a.forEach(function(x,i){if(x==null){pen=false;return;}
    d+=(pen?'L':'M')+X(i).toFixed(1)+' '+Y(x).toFixed(1);pen=true;});
    if(!d)return;var at={d:d,fill:'none','stroke-width':k?1.5:2,stroke:k?st[k-1][0]:'#1a5490'};if(k)at['stroke-dasharray']=st[k-1][1];
    svg.appendChild(sv('path',at));
    if(!k)a.forEach(function(x,i){if(x!=null)svg.appendChild(sv('circle',{cx:X(i).toFixed(1),cy:Y(x).toFixed(1),r:1.8,fill:'#1a5490'}));});});
  var t=sv('title',{});t.textContent=c.name+', '+m.short+' '+ys[0]+'-'+ys[ys.length-1]+': '+c.v[m.id].map(function(x,i){return ys[i]+' '+fmt(x,m);}).join(', ');
  svg.insertBefore(t,svg.firstChild);return svg;}
function table(head,rows){var t=el('table'),h=t.createTHead().insertRow();head.forEach(function(x){var th=el('th',x);th.scope='col';h.appendChild(th);});
  var b=t.createTBody();rows.forEach(function(r){var tr=b.insertRow();r.forEach(function(x,i){var cell=i?el('td'):el('th');if(!i)cell.scope='row';
    if(x&&x.nodeType)cell.appendChild(x);else cell.textContent=x;tr.appendChild(cell);});});return t;}
function build(d){
  var body=d.querySelector('.csc-prof-body');if(body.getAttribute('data-built'))return;body.setAttribute('data-built','1');
  var c=by[d.getAttribute('data-id')],ms=D.measures;
  body.appendChild(el('p',(c.small?'Small council (under 2,000 children): rates swing widely. ':'')+(c.joint?'Joint workforce return with another council. ':'')+'Lines: the council (solid, dots), England (dashed), median of its statistical neighbours (dotted), '+D.years[0]+'-'+D.years[D.years.length-1]+'. Years are census years (30 September); spending is for the financial year ending the March before (2025: 2024-25), in cash terms.','csc-key'));
  var sm=el('div',null,'csc-sm');
  ms.forEach(function(m){var f=el('figure'),p=c.pos[m.id],cap=el('figcaption');cap.appendChild(el('b',m.short));
    if(p){var yi=D.years.indexOf(p[0]);cap.appendChild(document.createTextNode(' '+fmt(p[1],m)+' ('+(m.id==='spend_total_pc'?(p[0]-1)+'-'+String(p[0]).slice(2):p[0])+')'));
      f.appendChild(cap);f.appendChild(spark(c,m));
      f.appendChild(el('div','England '+fmt(D.england[m.id][yi],m)+'; neighbours '+fmt(c.sn[m.id][yi],m),'csc-band'));
      f.appendChild(el('div','Rank '+p[2]+' of '+p[3]+' (1 = lowest): '+p[5],'csc-band'));}
    else{cap.appendChild(document.createTextNode(' no value'));f.appendChild(cap);f.appendChild(spark(c,m));}
    sm.appendChild(f);});
  body.appendChild(sm);
  body.appendChild(el('h4','Values by year'));
  var why=[];
  var rows=D.years.map(function(y,i){return [String(y)].concat(ms.map(function(m){var v=c.v[m.id][i];
    if(v==null){var r=(c.why[m.id]||{})[y];if(r!=null)why.push([r,m.short+' '+y]);return '\u2013';}return fmt(v,m);}));});
  var vt=table(['Year'].concat(ms.map(function(m){return m.short+(m.unit?' '+m.unit:'');})),rows);vt.className='csc-values';body.appendChild(vt);
  if(why.length){var g={},ul=el('ul');why.forEach(function(w){(g[w[0]]=g[w[0]]||[]).push(w[1]);});
    body.appendChild(el('p','Why a year has no value (\u2013):','csc-key'));
    Object.keys(g).sort().forEach(function(r){ul.appendChild(el('li',D.reasons[r]+': '+g[r].join(', ')));});body.appendChild(ul);}
  body.appendChild(el('h4','Statistical neighbours ('+D.year+' or the council\u2019s latest year)'));
  if(c.nb.length){var nt=table(['Neighbour'].concat(ms.map(function(m){return m.short;})),c.nb.map(function(n){
    var a;if(by[n[0]]){a=el('a',n[1]);a.href='#council-'+n[0];}else a=n[1];return [a].concat(n[2].map(function(v,i){return fmt(v,ms[i]);}));}));
    nt.className='csc-nb';body.appendChild(nt);}
  else body.appendChild(el('p','No statistical neighbours listed.'));
  body.appendChild(el('h4','Ofsted inspections'));
  if(c.insp.length){var G=D.grades;body.appendChild(table(['Published','Framework','Overall'].concat(D.subs),c.insp.map(function(r){
    return [r[0],r[1]+(r[2]&&r[2].toLowerCase()!==r[1].toLowerCase()?' '+r[2]:''),G[r[3]]].concat([G[r[4]],G[r[5]],G[r[6]]]);})));
    body.appendChild(el('p','O Outstanding, G Good, RI Requires improvement, I Inadequate; \u2013 no grade (the 2026 framework gives none).','csc-key'));}
  else body.appendChild(el('p','No inspection in the data.'));}
var dets=Array.prototype.slice.call(root.querySelectorAll('details.csc-prof'));
dets.forEach(function(d){d.addEventListener('toggle',function(){if(d.open)build(d);});
  d.querySelector('summary').addEventListener('click',function(){build(d);});});
function norm(s){return (' '+s.toLowerCase().replace(/&/g,' and ').replace(/[.,'\u2019()\-]/g,' ').replace(/\s+/g,' ').trim()+' ');}
var input=root.querySelector('input'),count=root.querySelector('.csc-prof-count');
function search(){var q=norm(input.value).trim(),words=q?q.split(' '):[],n=0;
  dets.forEach(function(d){var s=d.getAttribute('data-search'),hit=words.every(function(w){return s.indexOf(' '+w)>=0;});
    d.hidden=!hit;if(hit)n++;});count.textContent=n+' of '+dets.length+' councils';}
dets.forEach(function(d){d.setAttribute('data-search',norm(d.getAttribute('data-search')));});
input.addEventListener('input',search);
input.addEventListener('keydown',function(e){if(e.key==='Enter'){var f=dets.filter(function(d){return !d.hidden;})[0];if(f)location.hash=f.id;}});
function select(id){
  document.querySelectorAll('[data-council].csc-sel').forEach(function(h){h.classList.remove('csc-sel');});
  document.querySelectorAll('[data-council="'+id+'"]').forEach(function(h){h.classList.add('csc-sel');});}
function go(){var h=decodeURIComponent(location.hash.slice(1));if(h.indexOf('council-')!==0)return;
  var d=document.getElementById(h);if(!d||!d.classList.contains('csc-prof'))return;d.hidden=false;d.open=true;build(d);
  select(h.slice(8));d.scrollIntoView();}
window.addEventListener('hashchange',go);search();go();
})();
""".strip()


def profiles_html(p: Profiles) -> str:
    """The profiles section as a self-contained HTML fragment (inline CSS, JSON and JS)."""
    e = escape_html
    items = []
    for c in p.councils.itertuples(index=False):
        search = " ".join([c.la_name, c.region, str(c.la_code), c.map_code, c.gss_code])
        items.append(f'<li><details class="csc-prof" id="{e(anchor(c.gss_code))}" data-id="{e(c.gss_code)}" '
                     f'data-search="{e(search)}"><summary>{e(c.la_name)}<small>{e(c.region)} · map {e(c.map_code)}'
                     f'</small></summary><div class="csc-prof-body"></div></details></li>')
    return (f'<div class="csc-prof-root" id="csc-profiles">\n<style>{CSS}</style>\n'
            '<label for="csc-prof-q">Find a council profile (name, region, DfE code or map code)</label>\n'
            '<input id="csc-prof-q" type="search" autocomplete="off" placeholder="e.g. St Helens">\n'
            '<p class="csc-prof-count" aria-live="polite"></p>\n'
            '<p>Select a council to open its profile; a link from the lookup or a map hexagon opens it directly.</p>\n'
            '<ul class="csc-prof-list">\n' + "\n".join(items) + "\n</ul>\n"
            f'<script type="application/json" id="csc-prof-data">{json_for_script(profile_data(p))}</script>\n'
            f"<script>{JS}</script>\n</div>\n")
