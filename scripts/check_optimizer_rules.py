#!/usr/bin/env python3
"""Independent numpy check that optimizers.json follows the update rules in Fixtures/README.md."""
import json, math, numpy as np
d = json.load(open(__import__('os').path.join(__import__('os').path.dirname(__import__('os').path.abspath(__file__)), '..', 'Tests', 'BackpropTests', 'Fixtures', 'optimizers.json')))
net = d['network']; K = ["0.weight","0.bias","2.weight","2.bias"]
x = np.array(net['x']); y = np.array(net['y'])
def fwd_grad(p):
    W1,b1,W2,b2 = [p[k] for k in K]
    s1 = x@W1.T+b1; a1=np.tanh(s1); o=a1@W2.T+b2
    loss = ((o-y)**2).mean(); do = 2*(o-y)/o.size
    gW2 = do.T@a1; gb2 = do.sum(0); da1 = do@W2; ds1 = da1*(1-a1**2)
    return loss, {"0.weight": ds1.T@x, "0.bias": ds1.sum(0), "2.weight": gW2, "2.bias": gb2}
worst = 0
for r in d['runs']:
    h = r['hyperparameters']; p = {k: np.array(net['initial_params'][k]) for k in K}
    st = {k: {} for k in K}
    for t in range(1, 11):
        loss, g = fwd_grad(p)
        assert abs(loss - r['losses'][t-1]) < 1e-13, (r['id'], t, loss, r['losses'][t-1])
        for k in K:
            gk = g[k].copy(); s = st[k]; lr = h['lr']; wd = h['weight_decay']
            if r['optimizer'] == 'SGD':
                gk = gk + wd*p[k]
                if h['momentum']:
                    s['b'] = gk.copy() if 'b' not in s else h['momentum']*s['b'] + (1-h['dampening'])*gk
                    gk = gk + h['momentum']*s['b'] if h['nesterov'] else s['b']
                p[k] = p[k] - lr*gk
            elif r['optimizer'] in ('Adam','AdamW'):
                b1_, b2_ = h['betas']
                if r['optimizer']=='AdamW': p[k] = p[k]*(1-lr*wd)
                else: gk = gk + wd*p[k]
                s['m'] = b1_*s.get('m',0) + (1-b1_)*gk; s['v'] = b2_*s.get('v',0)+(1-b2_)*gk**2
                p[k] = p[k] - lr*(s['m']/(1-b1_**t))/(np.sqrt(s['v']/(1-b2_**t))+h['eps'])
            else:
                s['v'] = h['alpha']*s.get('v',0) + (1-h['alpha'])*gk**2
                dd = np.sqrt(s['v'])+h['eps']
                if h['momentum']:
                    s['b'] = h['momentum']*s.get('b',0) + gk/dd; p[k] = p[k]-lr*s['b']
                else: p[k] = p[k]-lr*gk/dd
        for k in K:
            e = np.abs(p[k]-np.array(r['params_after_step'][t-1][k])).max(); worst=max(worst,e)
            assert e < 1e-12, (r['id'], t, k, e)
print("optimizer rules verified, worst abs diff", worst)
for s in d['schedulers']:
    if s['id']=='cosine_annealing_lr':
        print("cosine max diff", max(abs(v-(0.001+0.099*(1+math.cos(math.pi*e/10))/2)) for e,v in enumerate(s['lrs'])))
c = d['clip_grad_norm']
after = np.sqrt(sum((np.array(v)**2).sum() for v in c['grads_after'].values()))
print("clip total", c['total_norm'], "after norm", after)
_, g = fwd_grad({k: np.array(net['initial_params'][k]) for k in K})
print("grad before diff", max(np.abs(g[k]-np.array(c['grads_before'][k])).max() for k in K))
