/* The hidden units' nonlinearity sigma as a registered type:
 *
 *   f(x) = (1/alpha) sum_k a_k sigma(w_k . (x, 1))
 *
 * One table entry per activation, all registered in one place
 * (src/model/activation_defs.h, which also holds the scalar and AVX2 forms
 * that the fused kernels inline).  Registered, with the multiplicity p:
 *
 *   relu      max(z, 0)                                   p = 1 (default)
 *   tanh      tanh z                                      p = 1
 *   sigmoid   1 / (1 + e^-z)                              p = 0
 *   softplus  log(1 + e^z)                                p = 0
 *   xtanh     z tanh z                                    p = 2
 *   srelu     relu(z) relu(1 - z)                         p = 1
 *   phi3      relu(z)^2 / 2 - 3 relu(z-1)^2 / 2
 *             + 3 relu(z-2)^2 / 2 - relu(z-3)^2 / 2       p = 2
 *
 * (phi3 is the quadratic B-spline on the knots 0 .. 3, z^2 / 2 on (0, 1];
 * p counts one-sided, as for relu.)  Only relu has the closed-form theory
 * (the arc-cosine NTK, the LFP); the infinite-width NTK of the others is
 * computed by quadrature (observe/ntk_quad.h).  This header is the
 * registry: look an activation up by its configuration name, list them,
 * and refuse one that a closed-form result does not cover.  The function
 * pointers are for the scalar, non-hot paths (tests, checks); the kernels
 * never call them per element.
 *
 * Everything here is local and reads constant tables. */
#ifndef PHASEDIAG_ACTIVATION_H
#define PHASEDIAG_ACTIVATION_H

typedef struct {
  const char *name;           /* configuration name: [model] activation */
  double (*sigma)(double z);  /* sigma(z) */
  double (*dsigma)(double z); /* sigma'(z); at a kink (relu, srelu at 0
                                 and 1) the one-sided value 0 */
  int multiplicity;    /* order p of the zero of sigma at 0 (condensation on
                          at most 2p orientations); 0 if sigma(0) != 0 */
  int closed_form_ntk; /* 1: the closed-form infinite-width theory holds
                          (the arc-cosine NTK of ntk.h, the LFP of lfp.h) */
  int id;              /* index in the registry; selects the kernels */
} pd_activation;

/* relu: the activation of a net configured without one. */
const pd_activation *pd_activation_default(void);

/* The activation registered as name, or NULL if there is none. */
const pd_activation *pd_activation_find(const char *name);

/* The activation registered as name into *act; PD_ERR_CONFIG, naming the
 * registered ones, if there is none. */
int pd_activation_lookup(const char *name, const pd_activation **act);

/* The registered activations, in registry order (entry i has id i); their
 * number into *count. */
const pd_activation *pd_activation_list(int *count);

/* PD_OK if the closed-form infinite-width theory holds for act (NULL: the
 * default); otherwise PD_ERR_CONFIG "the closed-form <what> is known only
 * for relu; activation <name> has none". */
int pd_activation_require_closed_form(const pd_activation *act,
                                      const char *what);

#endif
