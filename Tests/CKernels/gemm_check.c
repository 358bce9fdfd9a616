/*
 * Standalone check of the C GEMM kernels against a naive product in double,
 * for paths the Swift tests cannot reach on this machine (arm64 NEON):
 * 3000 random cases (sizes, transposes, row strides, alpha/beta, 1 or 2
 * threads, forced packing). Not part of the Swift package.
 *
 *   S=Sources/CBackpropKernels; C="$(ls $S/[a-z]*.c) Tests/CKernels/gemm_check.c"
 *   aarch64-linux-gnu-gcc -O2 -pthread -static -I$S/include -I$S -o /tmp/gemm_check $C -lm
 *   qemu-aarch64 /tmp/gemm_check 0        # 0 = generic path (NEON on arm64)
 *   qemu-aarch64 /tmp/gemm_check 0 1000   # the first 1000 cases only (.ci/run)
 *   cc -O2 -pthread -I$S/include -I$S -o /tmp/gemm_check $C -lm
 *   /tmp/gemm_check 1                     # x86-64: 0 generic, 1 avx2, 2 avx512
 *
 * Prints "isa N: 0/3000 bad" and exits 0 when every case matches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include "CBackpropKernels.h"
static unsigned long long st=88172645463325252ull;
static float rnd(){st^=st<<13;st^=st>>7;st^=st<<17;return (float)((st>>11)%2001)/1000.0f-1.0f;}
int main(int argc,char**argv){
  if(argc<2){fprintf(stderr,"usage: gemm_check ISA [CASES]\n");return 2;}
  int isa=atoi(argv[1]); int cases=argc>2?atoi(argv[2]):3000; int bad=0, cnt=0;
  for(int it=0;it<cases;it++){
    long m=1+rnd()*0+ (st%70), n=1+((st>>8)%70), k=1+((st>>16)%300);
    if(it%10==0){m=1+(st>>20)%400; n=1+(st>>30)%300; k=1+(st>>40)%800;}
    int ta=(st>>3)&1,tb=(st>>5)&1; rnd();
    long lda=(ta?m:k)+((st>>7)%3), ldb=(tb?k:n)+((st>>9)%3), ldc=n+((st>>11)%3);
    float beta=((st>>13)%3)==0?0:((st>>13)%3==1?1:0.5f); float alpha=((st>>15)%2)?1:-0.75f;
    int th=1+((st>>17)&1); int fl=(st>>19)&3;
    long asz=(ta?k:m)*lda, bsz=(tb?n:k)*ldb;
    float*a=malloc(asz*4),*b=malloc(bsz*4),*c=malloc(m*ldc*4),*r=malloc(m*ldc*4);
    for(long i=0;i<asz;i++)a[i]=rnd(); for(long i=0;i<bsz;i++)b[i]=rnd(); for(long i=0;i<m*ldc;i++)c[i]=r[i]=rnd();
    for(long i=0;i<m;i++)for(long j=0;j<n;j++){double s=0;for(long p=0;p<k;p++)s+=(double)(ta?a[p*lda+i]:a[i*lda+p])*(tb?b[j*ldb+p]:b[p*ldb+j]); r[i*ldc+j]=alpha*s+(beta==0?0:beta*r[i*ldc+j]);}
    bp_sgemm(ta,tb,m,n,k,alpha,a,lda,b,ldb,beta,c,ldc,isa,th,fl);
    double maxe=0; for(long i=0;i<m;i++)for(long j=0;j<ldc;j++){double e=fabs(c[i*ldc+j]-r[i*ldc+j]); if(j>=n) e = c[i*ldc+j]!=r[i*ldc+j]?1e9:0; if(e>maxe)maxe=e;}
    cnt++; if(maxe>1e-3*sqrt(k)){bad++; if(bad<10)printf("FAIL m%ld n%ld k%ld ta%d tb%d lda%ld ldb%ld ldc%ld beta%g th%d fl%d err %g\n",m,n,k,ta,tb,lda,ldb,ldc,beta,th,fl,maxe);}
    free(a);free(b);free(c);free(r);
  }
  printf("isa %d: %d/%d bad\n",isa,bad,cnt); return bad!=0;
}
