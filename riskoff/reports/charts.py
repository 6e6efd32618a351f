"""Interactive charts for the report: compact JSON data in the page, drawn by plotly.js in the browser.

Each chart is a ``<script type="application/json" class="chart-data">`` block followed by an empty
``<div>``; the inline renderer (:data:`RENDER_JS`) turns the data into plotly traces on load. The
data is kept compact on purpose (dates as day-number deltas, values to 4 significant digits, one
shared date axis per chart), so the page's own content stays small; plotly.js itself (the copy the
plotly Python package installs, a dependency of vectorbt) is embedded once per page.

Chart kinds: ``frontier`` (protection vs cost per asset), ``equity`` (one strategy against buy &
hold with a selector, equity and drawdown), ``exposure`` (one compact row per strategy) and
``window`` (price, signal readings with their states and thresholds, exposure rows).
"""
from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pandas as pd

from riskoff.reports.runfiles import esc

__all__ = ["plotly_js", "chart_block", "day_deltas", "compact", "label_levels", "log_ticks", "RENDER_JS",
           "CHARTS_CHECK_JS"]

_EPOCH = pd.Timestamp("1970-01-01")


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """plotly.js as the installed plotly package ships it (read once per process; no network)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def day_deltas(index: pd.DatetimeIndex) -> list[int]:
    """Dates as day numbers, the first absolute (days since 1970-01-01), the rest as differences."""
    days = ((pd.DatetimeIndex(index).tz_localize(None).normalize() - _EPOCH) // pd.Timedelta(days=1)).to_numpy()
    return np.diff(days, prepend=0).astype(int).tolist()


def compact(values, sig: int = 4) -> list:
    """Floats to ``sig`` significant digits (NaN -> null), enough for a chart and small in JSON."""
    arr = np.asarray(values, dtype="float64")
    finite = np.isfinite(arr)
    x = np.where(finite, arr, 0.0)
    digits = sig - 1 - np.floor(np.log10(np.where(x != 0, np.abs(x), 1.0)))
    # Divide by an exact power of ten (or multiply by one): the result is the nearest double to the
    # rounded decimal, so JSON prints it short (0.1234, not 0.12340000000000001).
    up = np.round(x * 10.0 ** np.clip(digits, 0, None)) / 10.0 ** np.clip(digits, 0, None)
    down = np.round(x / 10.0 ** np.clip(-digits, 0, None)) * 10.0 ** np.clip(-digits, 0, None)
    rounded = np.where(digits >= 0, up, down).tolist()
    return [v if ok else None for v, ok in zip(rounded, finite.tolist())]


def label_levels(spans: list[tuple[pd.Timestamp, str]], lo: pd.Timestamp, hi: pd.Timestamp,
                 width_px: float = 1000.0, char_px: float = 6.5, levels: int = 3) -> list[int]:
    """A text row per label so no two labels overlap horizontally (greedy, in start order).

    Args:
        spans: (x position, text) per label, sorted by position.
        lo, hi: the chart's date range.
        width_px: the plot area's width in pixels; char_px: the width of one character.
        levels: how many rows are available; labels beyond them wrap round to row 0.

    Returns:
        The row of each label (0 = top).
    """
    days_per_px = max((hi - lo).days, 1) / width_px
    ends = [pd.Timestamp.min] * levels
    out = []
    for x, text in spans:
        width = pd.Timedelta(days=(len(text) * char_px + 8) * days_per_px)
        row = next((k for k in range(levels) if ends[k] <= x), None)
        if row is None:
            row = int(np.argmin([e.value for e in ends]))
        ends[row] = x + width
        out.append(row)
    return out


# Tick mantissas per decade for a log axis. Plotly's own choice on a short log axis labels every
# digit (1 2 3 ... 9 10 2 3 ...), which clutters a panel a few hundred pixels tall.
_LOG_DENSER = ((1, 2, 3, 5), (1, 1.5, 2, 3, 5, 7))


def _tick_text(v: float) -> str:
    return f"{v:,.0f}" if v >= 1000 else f"{v:g}"


def log_ticks(lo: float, hi: float, max_ticks: int = 7) -> dict | None:
    """Major ticks for a log axis spanning ``lo``..``hi``, each labelled in full ("50", "1,000").

    1-2-5 per decade; only powers of ten (every k-th decade if needed) when that gives more than
    ``max_ticks``; 1-2-3-5 or 1-1.5-2-3-5-7 when a short range would get fewer than three.

    Returns:
        ``{"vals": [...], "text": [...]}`` for plotly's ``tickvals`` / ``ticktext`` (so no minor
        digit labels), or None when the range is not positive or too narrow for two such ticks.
    """
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0 or hi <= lo:
        return None
    e0, e1 = int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi)))

    def ticks(mantissas, step=1):
        vals = [float(f"{m}e{e}") for e in range(e0, e1 + 1, step) for m in mantissas]
        return [v for v in vals if lo <= v <= hi]

    vals = ticks((1, 2, 5))
    if len(vals) > max_ticks:
        step = 1
        while len(vals := ticks((1,), step)) > max_ticks:
            step += 1
    else:
        for mantissas in _LOG_DENSER:
            if len(vals) >= 3:
                break
            denser = ticks(mantissas)
            if len(denser) <= max_ticks:
                vals = denser
    if len(vals) < 2:
        return None
    return {"vals": vals, "text": [_tick_text(v) for v in vals]}


def chart_block(kind: str, data: dict, height: int, alt: str) -> str:
    """One chart: its JSON data and the empty container the renderer draws into."""
    payload = json.dumps({"kind": kind, **data}, separators=(",", ":"), allow_nan=False)
    # "<" is escaped so no user-supplied name can close the script element.
    payload = payload.replace("<", "\\u003c")
    return (f'<script type="application/json" class="chart-data">{payload}</script>'
            f'<div class="plot" role="img" aria-label="{esc(alt)}" style="height:{int(height)}px"></div>')


# The self-check sets body data-* attributes once every chart has drawn, so a headless browser
# (``--dump-dom``) can assert that the charts render: images must have decoded, inline SVGs must have
# a size, and every plotly container must hold a drawn plot.
CHARTS_CHECK_JS = """
(function(){
  function check(){
    var imgs=Array.prototype.slice.call(document.images);
    var svgs=Array.prototype.slice.call(document.querySelectorAll('body > * svg:not(.main-svg)'));
    var plots=Array.prototype.slice.call(document.querySelectorAll('div.plot'));
    var broken=0;
    imgs.forEach(function(i){if(!(i.complete&&i.naturalWidth>0))broken++;});
    svgs.forEach(function(s){if(s.closest('div.plot'))return;var r=s.getBoundingClientRect();
      if(!(r.width>0&&r.height>0))broken++;});
    plots.forEach(function(p){if(!p.querySelector('.main-svg'))broken++;});
    var total=imgs.length+plots.length+svgs.filter(function(s){return !s.closest('div.plot');}).length;
    var b=document.body;
    b.setAttribute('data-charts-total',String(total));
    b.setAttribute('data-charts-broken',String(broken));
    b.setAttribute('data-charts-ok',(broken===0&&total>0)?'true':'false');
  }
  window.addEventListener('load',function(){
    if(window.riskoffChartsReady){window.riskoffChartsReady.then(check,check);}else{check();}
  });
})();
"""

RENDER_JS = r"""
(function(){
  if(typeof Plotly==='undefined'){return;}
  var DAY=86400000, BH='#222222', WIN='rgba(244,162,97,0.22)';
  var PALETTE=['#1f77b4','#d62728','#2ca02c','#9467bd','#ff7f0e','#17becf','#8c564b','#e377c2','#7f7f7f','#bcbd22'];
  var STATE={1:'rgba(246,213,92,0.45)',2:'rgba(228,87,46,0.40)'};
  // No mode bar: it would sit on top of the data; drag to zoom and double-click to reset still work.
  var CONFIG={displaylogo:false,responsive:true,displayModeBar:false};
  function dates(t){var d=0,out=new Array(t.length);for(var i=0;i<t.length;i++){d+=t[i];
    out[i]=new Date(d*DAY).toISOString().slice(0,10);}return out;}
  function day(s){return new Date(s*DAY).toISOString().slice(0,10);}
  function drawdown(v){var m=-Infinity;return v.map(function(x){if(x===null)return null;m=Math.max(m,x);
    return Math.round((x/m-1)*10000)/100;});}
  function winShapes(ws,yref){return (ws||[]).map(function(w){return {type:'rect',xref:'x',yref:yref||'paper',
    x0:day(w.s),x1:day(w.e),y0:0,y1:1,fillcolor:WIN,line:{width:0},layer:'below'};});}
  function winLabels(ws,y0,dy){return (ws||[]).map(function(w){return {xref:'x',yref:'paper',x:day(w.s),
    y:y0-dy*w.level,text:w.id,showarrow:false,xanchor:'left',yanchor:'top',font:{size:10,color:'#8a4b0f'}};});}
  // A log axis gets the major ticks the page computed (tickvals), never plotly's digit labels.
  function ticks(axis,t){if(t){axis.tickmode='array';axis.tickvals=t.vals;axis.ticktext=t.text;
    axis.minor={showgrid:false,ticks:''};}return axis;}
  var KINDS={};
  // Point labels beside their markers, never on top of one another: each label takes the first free
  // spot on rings of eight positions around its marker (nearest ring first), free meaning it overlaps
  // no placed label, no marker and stays inside the plot area; one pushed off its marker's side gets a
  // thin leader line. Laid out in pixels once plotly has sized the axes, and again after a resize.
  function placeLabels(el,items,marks){
    var fl=el._fullLayout,xa=fl&&fl.xaxis,ya=fl&&fl.yaxis;
    if(!xa||typeof xa.l2p!=='function')return [];
    function px(x){return xa._offset+xa.l2p(x);}function py(y){return ya._offset+ya.l2p(y);}
    var area=[xa._offset,ya._offset,xa._offset+xa._length,ya._offset+ya._length];
    var boxes=marks.map(function(m){var cx=px(m.x),cy=py(m.y);return [cx-m.r,cy-m.r,cx+m.r,cy+m.r];});
    function over(a,b){var w=Math.min(a[2],b[2])-Math.max(a[0],b[0]),h=Math.min(a[3],b[3])-Math.max(a[1],b[1]);
      return w>0&&h>0?w*h:0;}
    var DIRS=[[1,0],[0,-1],[-1,0],[0,1],[0.75,-0.75],[0.75,0.75],[-0.75,-0.75],[-0.75,0.75]];
    return items.map(function(it){
      var cx=px(it.x),cy=py(it.y),w=it.text.length*6.4+6,h=15,best=null;
      for(var ring=0;ring<5&&!(best&&best.cost===0);ring++){
        var g=it.r+2+ring*12;
        DIRS.forEach(function(dv){if(best&&best.cost===0)return;
          var ox=dv[0]*g+Math.sign(dv[0])*w/2,oy=dv[1]*g+Math.sign(dv[1])*h/2;
          var b=[cx+ox-w/2,cy+oy-h/2,cx+ox+w/2,cy+oy+h/2],
            cost=b[0]>=area[0]&&b[1]>=area[1]&&b[2]<=area[2]&&b[3]<=area[3]?0:100+10*(w*h-over(b,area));
          boxes.forEach(function(o){cost+=over(b,o);});
          if(cost<0.5)cost=0;
          if(!best||cost<best.cost)best={cost:cost,ox:ox,oy:oy,box:b,ring:ring};});
      }
      boxes.push(best.box);
      // The arrow is the leader line: invisible when the label sits right beside its marker.
      return {x:it.x,y:it.y,xref:'x',yref:'y',text:it.text,showarrow:true,ax:best.ox,ay:best.oy,arrowhead:0,
        arrowwidth:0.8,arrowcolor:best.ring>0?'#8a939e':'rgba(0,0,0,0)',standoff:it.r,
        font:{size:10,color:it.color},bgcolor:'rgba(255,255,255,0.8)',borderpad:1,captureevents:false};
    });
  }
  KINDS.frontier=function(el,d){
    var pts=d.points, fr=pts.filter(function(p){return p.frontier;});
    // Buy & hold (0, 0) belongs on the frontier unless a rule avoids at least as much for no more cost.
    if(!pts.some(function(p){return p.x<=0&&p.y>=0&&(p.x<0||p.y>0);}))fr=fr.concat([{x:0,y:0}]);
    fr.sort(function(a,b){return a.x-b.x;});
    function label(p){return String(p.rank)+(p.sig||'');}
    function tr(sel,name,color){var ps=pts.filter(sel);return {type:'scatter',mode:'markers',name:name,
      x:ps.map(function(p){return p.x;}),y:ps.map(function(p){return p.y;}),
      customdata:ps.map(function(p){return [p.name,p.p===null?'n/a':p.p.toFixed(3),p.sharpe,label(p)];}),
      hovertemplate:'#%{customdata[3]} %{customdata[0]}<br>CAGR given up %{x:.2f} pp/yr<br>mean DD avoided %{y:.1f} pp'+
        '<br>Sharpe change %{customdata[2]}<br>random-timing p %{customdata[1]}<extra></extra>',
      marker:{size:12,color:color,opacity:0.9,line:{width:1,color:'#fff'}}};}
    var traces=[{type:'scatter',mode:'lines',name:'frontier',x:fr.map(function(p){return p.x;}),
      y:fr.map(function(p){return p.y;}),line:{color:'#1a9850',width:1.5,dash:'dot'},hoverinfo:'skip'},
      tr(function(p){return p.frontier;},'on the frontier','#1a9850'),
      tr(function(p){return !p.frontier;},'dominated','#9aa5b1'),
      {type:'scatter',mode:'markers',name:'buy & hold',x:[0],y:[0],marker:{size:11,color:BH,symbol:'x'},
       hovertemplate:'buy & hold (reference)<extra></extra>'}];
    // Labels: frontier rules first, then the dominated ones, each by rank; run B's after run A's.
    var items=pts.slice().sort(function(a,b){return (b.frontier-a.frontier)||(a.rank-b.rank);}).map(function(p){
      return {x:p.x,y:p.y,r:6,text:label(p),color:p.frontier?'#11663a':'#5b6570'};});
    var marks=pts.map(function(p){return {x:p.x,y:p.y,r:6};}).concat([{x:0,y:0,r:6}]), all=pts.slice();
    if(d.points_b){
      // A second run: hollow markers, and a grey segment from each rule's A point to its B point.
      var pb=d.points_b, byName={};pts.forEach(function(p){byName[p.name]=p;});
      pb.forEach(function(p){var a=byName[p.name];if(a)traces.push({type:'scatter',mode:'lines',showlegend:false,
        x:[a.x,p.x],y:[a.y,p.y],line:{color:'#b0b7c0',width:1},hoverinfo:'skip'});});
      traces.push({type:'scatter',mode:'markers',name:'run B',x:pb.map(function(p){return p.x;}),
        y:pb.map(function(p){return p.y;}),customdata:pb.map(function(p){return [p.name,String(p.rank)];}),
        hovertemplate:'B #%{customdata[1]} %{customdata[0]}<br>CAGR given up %{x:.2f} pp/yr<br>mean DD avoided %{y:.1f} pp<extra></extra>',
        marker:{size:12,color:'rgba(0,0,0,0)',line:{width:2,color:'#c0392b'}}});
      traces[1].name='run A: on the frontier';traces[2].name='run A: dominated';
      items=items.concat(pb.map(function(p){return {x:p.x,y:p.y,r:7,text:String(p.rank),color:'#c0392b'};}));
      marks=marks.concat(pb.map(function(p){return {x:p.x,y:p.y,r:7};}));all=all.concat(pb);
    }
    // Room round the points for their labels: a fixed range padded by 12% of the span on each side.
    function range(vals){var lo=Math.min.apply(null,vals),hi=Math.max.apply(null,vals),
      pad=Math.max((hi-lo)*0.12,0.25);return [lo-pad,hi+pad];}
    var xr=range(all.map(function(p){return p.x;}).concat([0])),
      yr=range(all.map(function(p){return p.y;}).concat([0]));
    function relabel(){return Plotly.relayout(el,{annotations:placeLabels(el,items,marks)});}
    var timer=null;
    window.addEventListener('resize',function(){clearTimeout(timer);timer=setTimeout(relabel,250);});
    return Plotly.newPlot(el,traces,{title:{text:d.asset,x:0,font:{size:14}},margin:{l:56,r:12,t:56,b:44},
      legend:{orientation:'h',x:0,y:1.0,yanchor:'bottom',font:{size:10}},
      xaxis:{title:{text:'CAGR given up (pp per year)',font:{size:11}},zeroline:true,range:xr},
      yaxis:{title:{text:'mean drawdown avoided (pp)',font:{size:11}},zeroline:true,range:yr}},CONFIG).then(relabel);
  };
  KINDS.equity=function(el,d){
    var x=dates(d.t), bar=document.createElement('div');bar.className='selector';
    var sel=document.createElement('select');sel.setAttribute('aria-label',d.asset+' strategy');
    d.order.forEach(function(n){var o=document.createElement('option');o.value=n;o.textContent=d.labels[n]||n;
      if(n===d.first)o.selected=true;sel.appendChild(o);});
    var lab=document.createElement('label');lab.textContent=d.asset+': strategy vs buy & hold ';lab.appendChild(sel);
    bar.appendChild(lab);el.parentNode.insertBefore(bar,el);
    var bhdd=drawdown(d.bh);
    function draw(name){var v=d.series[name],col=d.colors[name];
      var traces=[{x:x,y:d.bh,name:'buy & hold',line:{color:BH,width:1.4},type:'scatter',mode:'lines',hovertemplate:'%{y:.3f}'},
        {x:x,y:v,name:name,line:{color:col,width:1.4},type:'scatter',mode:'lines',hovertemplate:'%{y:.3f}'},
        {x:x,y:bhdd,name:'buy & hold',showlegend:false,line:{color:BH,width:1},type:'scatter',mode:'lines',
         xaxis:'x',yaxis:'y2',hovertemplate:'%{y:.1f}%'},
        {x:x,y:drawdown(v),name:name,showlegend:false,line:{color:col,width:1},type:'scatter',mode:'lines',
         xaxis:'x',yaxis:'y2',hovertemplate:'%{y:.1f}%'}];
      return Plotly.react(el,traces,{margin:{l:60,r:12,t:30,b:30},hovermode:'x unified',
        legend:{orientation:'h',x:0,y:1.0,yanchor:'bottom',font:{size:11}},
        xaxis:{anchor:'y2',type:'date'},yaxis:ticks({domain:[0.44,1],type:d.log?'log':'linear',
          title:{text:'equity (start = 1)',font:{size:11}}},d.log?d.ticks:null),
        yaxis2:{domain:[0,0.30],title:{text:'drawdown %',font:{size:11}}},
        shapes:winShapes(d.windows),annotations:winLabels(d.windows,0.43,0.033)},CONFIG);}
    sel.addEventListener('change',function(){draw(sel.value);});
    return draw(d.first);
  };
  KINDS.exposure=function(el,d){
    var x=dates(d.t);
    return Plotly.newPlot(el,[{type:'heatmap',x:x,y:d.rows,z:d.z,zmin:0,zmax:1,showscale:false,
      colorscale:[[0,'#f3f4f6'],[0.5,'#8fb3de'],[1,'#1f5fa8']],xgap:0,ygap:2,
      hovertemplate:'%{y}<br>%{x}: exposure %{z}<extra></extra>'}],
      {margin:{l:d.left,r:12,t:8,b:30},yaxis:{autorange:'reversed',tickfont:{size:10}},
       xaxis:{type:'date'},shapes:(d.windows||[]).map(function(w){return {type:'rect',xref:'x',yref:'paper',
        x0:day(w.s),x1:day(w.e),y0:0,y1:1,fillcolor:'rgba(0,0,0,0)',line:{width:1,color:'#e08a3c'}};})},CONFIG);
  };
  KINDS.window=function(el,d){
    var x=dates(d.t), traces=[], shapes=[], ann=[], n=d.panels.length, units=[1.6];
    d.panels.forEach(function(){units.push(1);});if(d.exp)units.push(Math.max(0.8,0.22*d.exp.rows.length));
    var total=units.reduce(function(a,b){return a+b;},0), gap=0.035, top=1, layout={margin:{l:d.left,r:12,t:8,b:40},
      showlegend:false,hovermode:'x'};
    var doms=units.map(function(u){var h=u/total*(1-gap*(units.length-1));var dm=[Math.max(0,top-h),top];top=top-h-gap;return dm;});
    function ax(k){return k===0?'':String(k+1);}
    // Panel names sit left of the tick labels (xshift), so the two never overlap.
    function name(k,text){ann.push({xref:'paper',yref:'y'+ax(k)+' domain',x:0,xshift:-40,y:0.5,xanchor:'right',
      yanchor:'middle',text:text,showarrow:false,font:{size:10}});}
    traces.push({x:x,y:d.price,type:'scatter',mode:'lines',line:{color:BH,width:1.3},name:'close',yaxis:'y'});
    name(0,'close');
    d.panels.forEach(function(p,i){var k=i+1;
      traces.push({x:x,y:p.r,type:'scatter',mode:'lines',line:{color:'#3b5b92',width:1.1},name:p.name,yaxis:'y'+ax(k)});
      (p.states||[]).forEach(function(s){shapes.push({type:'rect',xref:'x',yref:'y'+ax(k)+' domain',x0:day(s[0]),
        x1:day(s[1]),y0:0,y1:1,fillcolor:STATE[s[2]],line:{width:0},layer:'below'});});
      (p.thresholds||[]).forEach(function(t){shapes.push({type:'line',xref:'paper',yref:'y'+ax(k),x0:0,x1:1,
        y0:t.v,y1:t.v,line:{color:t.s===2?'#c0392b':'#b7950b',width:1,dash:'dash'}});});
      name(k,p.name);});
    if(d.exp){var k=units.length-1;traces.push({type:'heatmap',x:x,y:d.exp.rows,z:d.exp.z,zmin:0,zmax:1,showscale:false,
      colorscale:[[0,'#f3f4f6'],[0.5,'#8fb3de'],[1,'#1f5fa8']],ygap:1,yaxis:'y'+ax(k),
      hovertemplate:'%{y}: %{z}<extra></extra>'});}
    doms.forEach(function(dm,k){layout['yaxis'+ax(k)]={domain:dm,tickfont:{size:9},
      autorange:(d.exp&&k===units.length-1)?'reversed':true};
      if(d.exp&&k===units.length-1){layout['yaxis'+ax(k)].tickfont={size:9};}
      if(k>0)layout['yaxis'+ax(k)].anchor='x';});
    shapes.push({type:'rect',xref:'x',yref:'paper',x0:d.start,x1:d.end,y0:0,y1:1,fillcolor:'rgba(244,162,97,0.15)',
      line:{width:0},layer:'below'});
    if(d.trough)shapes.push({type:'line',xref:'x',yref:'paper',x0:d.trough,x1:d.trough,y0:0,y1:1,
      line:{color:'#c0392b',width:1,dash:'dot'}});
    layout.xaxis={type:'date',anchor:'y'+ax(units.length-1),range:[x[0],x[x.length-1]]};
    layout.shapes=shapes;layout.annotations=ann;
    if(d.exp){layout['yaxis'+ax(units.length-1)].showticklabels=true;}
    return Plotly.newPlot(el,traces,layout,CONFIG);
  };
  var jobs=[];
  document.querySelectorAll('script.chart-data').forEach(function(s){
    var d=JSON.parse(s.textContent), el=s.nextElementSibling;
    try{jobs.push(Promise.resolve(KINDS[d.kind](el,d)));}catch(e){console.error('chart '+d.kind+': '+e);}
  });
  window.riskoffChartsReady=Promise.all(jobs);
})();
"""
